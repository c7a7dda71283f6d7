package publisher_test

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
)

// Publishing the segments an encoder writes: one Send per segment, then
// Close to end the stream.
func Example() {
	pub, err := publisher.New(publisher.Options{
		URL:     "wss://relay.example.com/",
		Stream:  "room1/cam/1280x720-30~2000",
		Secret:  os.Getenv("PUSH_SECRET"),
		OnReady: func() { log.Print("relay accepted the stream") },
		OnError: func(err error) {
			var relayErr *protocol.Error
			if errors.As(err, &relayErr) && relayErr.Code == protocol.CodeAuth {
				log.Print("check PUSH_SECRET: ", relayErr.Message)
				return
			}
			log.Print(err)
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	for _, name := range []string{"seg0.ts", "seg1.ts", "seg2.ts"} {
		data, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		// Send returns at once; the publisher delivers in the background.
		if err := pub.Send(ctx, publisher.Fragment{Duration: 2 * time.Second, Data: data}); err != nil {
			log.Fatal(err)
		}
	}

	// Deliver what is queued and end the stream, waiting at most 10 s.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		log.Print(err)
	}
}

// Picking the relay before each connection attempt, for example from a
// load balancer's answer.
func ExampleOptions_urlFunc() {
	pub, err := publisher.New(publisher.Options{
		URLFunc: func(ctx context.Context) (string, error) {
			return "ws://127.0.0.1:8080/", nil // ask a directory service here
		},
		Stream:      "room1/cam",
		Token:       os.Getenv("PUSH_TOKEN"),
		QueueLength: 30,
		RetryDelay:  500 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close(context.Background())
}

// Publishing ffmpeg's fragmented MP4 in parts: each chunk (200 ms) goes to
// the relay as soon as ffmpeg has written it, grouped into fragments of
// about a second that start with a key frame (docs/cmaf-ingest.md).
func ExamplePublisher_SendPart() {
	pub, err := publisher.New(publisher.Options{
		URL:     "ws://127.0.0.1:8080/",
		Stream:  "room1/cam",
		Secret:  os.Getenv("PUSH_SECRET"),
		Parts:   true,
		OnError: func(err error) { log.Print(err) }, // errors.Is(err, publisher.ErrPartsUnsupported): an older relay
	})
	if err != nil {
		log.Fatal(err)
	}
	ffmpeg := exec.Command("ffmpeg", "-re", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-c:v", "libx264", "-tune", "zerolatency", "-force_key_frames", "expr:gte(t,n_forced*1)",
		"-f", "mp4", "-movflags", "+empty_moov+delay_moov+default_base_moof+frag_keyframe+skip_trailer+cmaf",
		"-frag_duration", "200000", "-use_editlist", "0", "pipe:1")
	stdout, err := ffmpeg.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := ffmpeg.Start(); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	r := cmaf.NewReader(stdout, nil)
	init, err := r.Init()
	if err != nil {
		log.Fatal(err)
	}
	if err := pub.SendInit(ctx, init.Data); err != nil {
		log.Fatal(err)
	}
	var frag cmaf.Fragmenter
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if _, _, closed := frag.Add(c); closed {
			if err := pub.CloseFragment(ctx); err != nil {
				log.Fatal(err)
			}
		}
		if c.Init != nil { // the encoder started over
			if err := pub.SendInit(ctx, c.Init.Data); err != nil {
				log.Fatal(err)
			}
		}
		err = pub.SendPart(ctx, publisher.Part{Duration: c.Duration, Data: c.Data, Independent: c.Independent})
		if err != nil {
			log.Fatal(err)
		}
	}
	_ = ffmpeg.Wait()
	// Close ends the last fragment, then the stream.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		log.Print(err)
	}
}
