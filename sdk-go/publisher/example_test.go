package publisher_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

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
