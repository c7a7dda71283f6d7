package cmaf_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
)

// Reading an encoder's fMP4 output (here a file; in practice ffmpeg's
// stdout) and grouping its chunks into fragments of about a second that
// each start with a key frame.
func Example() {
	f, err := os.Open("testdata/av.mp4")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	r := cmaf.NewReader(f, nil)
	init, err := r.Init()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range init.Tracks {
		fmt.Printf("track %d: %s, timescale %d\n", t.ID, t.Handler, t.Timescale)
	}
	var frag cmaf.Fragmenter // a fragment per second
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		p, closed, ok := frag.Add(c)
		if ok {
			fmt.Printf("fragment %d closed: %v in %d parts\n", closed.Index, closed.Duration, closed.Parts)
		}
		fmt.Printf("fragment %d part %d: %v, decode time %d, independent %v\n", p.Fragment, p.Index, p.Duration, c.DecodeTime, p.Independent)
	}
	if closed, ok := frag.Close(); ok {
		fmt.Printf("fragment %d closed: %v in %d parts\n", closed.Index, closed.Duration, closed.Parts)
	}
	// Output:
	// track 1: vide, timescale 15360
	// track 2: soun, timescale 48000
	// fragment 0 part 0: 200ms, decode time 0, independent true
	// fragment 0 part 1: 200ms, decode time 3072, independent false
	// fragment 0 part 2: 200ms, decode time 6144, independent false
	// fragment 0 part 3: 200ms, decode time 9216, independent false
	// fragment 0 part 4: 200ms, decode time 12288, independent false
	// fragment 0 closed: 1s in 5 parts
	// fragment 1 part 0: 200ms, decode time 15360, independent true
	// fragment 1 part 1: 200ms, decode time 18432, independent false
	// fragment 1 part 2: 200ms, decode time 21504, independent false
	// fragment 1 part 3: 200ms, decode time 24576, independent false
	// fragment 1 part 4: 200ms, decode time 27648, independent false
	// fragment 1 closed: 1s in 5 parts
}

// Looping a recording as a live stream: each pass moves the decode times
// by the recording's duration per track, so they keep increasing.
func ExampleShiftDecodeTimes() {
	data, err := os.ReadFile("testdata/av.mp4")
	if err != nil {
		log.Fatal(err)
	}
	r := cmaf.NewReader(bytes.NewReader(data), nil)
	var chunks []cmaf.Chunk
	total := map[uint32]int64{} // per track, in its timescale
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		chunks = append(chunks, c)
		for _, tf := range c.Tracks {
			total[tf.TrackID] += int64(tf.Duration)
		}
	}
	init, _ := r.Init()
	offsets := map[uint32]int64{}
	for pass := range 3 {
		first, err := cmaf.ShiftDecodeTimes(chunks[0].Data, offsets)
		if err != nil {
			log.Fatal(err)
		}
		// Read it back to see its decode times.
		c, err := cmaf.NewReader(io.MultiReader(bytes.NewReader(init.Data), bytes.NewReader(first)), nil).Next()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("pass %d: video at %d/%d, audio at %d/%d\n", pass,
			c.Tracks[0].DecodeTime, c.Tracks[0].Timescale, c.Tracks[1].DecodeTime, c.Tracks[1].Timescale)
		for id, d := range total {
			offsets[id] += d
		}
	}
	// Output:
	// pass 0: video at 0/15360, audio at 0/48000
	// pass 1: video at 30720/15360, audio at 97024/48000
	// pass 2: video at 61440/15360, audio at 194048/48000
}
