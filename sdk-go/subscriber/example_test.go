package subscriber_test

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/subscriber"
)

// Watching a stream until it ends, measuring latency from the publish time
// that relays with the extensions send.
func Example() {
	sub, err := subscriber.New(subscriber.Options{
		URL:                 "wss://relay.example.com/",
		Stream:              "room1/cam/1280x720-30~2000",
		Secret:              os.Getenv("PULL_SECRET"),
		MaxInitialFragments: 1, // start at the newest buffered fragment
		OnError:             func(err error) { log.Print(err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()

	for {
		f, err := sub.Next(context.Background())
		var relayErr *protocol.Error
		switch {
		case errors.Is(err, io.EOF):
			log.Print("the stream ended")
			return
		case errors.As(err, &relayErr):
			log.Fatalf("refused: %s", relayErr.Message)
		case err != nil:
			log.Fatal(err)
		}
		if f.Disc {
			log.Print("discontinuity: reset the decoder")
		}
		if !f.Time.IsZero() {
			log.Printf("fragment %d: %d bytes, latency %v", f.Seq, len(f.Data), time.Since(f.Time))
		}
	}
}

// Watching an fMP4/CMAF stream in parts, for sub-second latency: the init
// segment, then each part as the relay forwards it (feed them, in order,
// to a decoder such as a browser's MediaSource), and the end of each
// fragment.
func Example_parts() {
	sub, err := subscriber.New(subscriber.Options{
		URL:    "ws://127.0.0.1:8080/",
		Stream: "room1/cam",
		Token:  os.Getenv("PULL_TOKEN"),
		Parts:  true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()

	for {
		f, err := sub.Next(context.Background())
		if err != nil {
			log.Print(err)
			return
		}
		switch f.Kind {
		case subscriber.InitSegment:
			log.Printf("init segment: %d bytes", len(f.Data))
		case subscriber.FragmentPart:
			log.Printf("fragment %d part %d: %v, key frame %v, disc %v, latency %v",
				f.Seq, f.Part, f.Duration, f.Independent, f.Disc, time.Since(f.Time))
		case subscriber.FragmentEnd:
			log.Printf("fragment %d ended: %d parts, %v", f.Seq, f.Parts, f.Duration)
		case subscriber.WholeFragment:
			log.Printf("fragment %d: %d bytes (not in parts)", f.Seq, len(f.Data))
		}
	}
}
