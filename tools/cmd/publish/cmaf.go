package main

import (
	"context"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/tools/internal/feed"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

// partsSink publishes chunks as parts, grouped into fragments that start
// with a key frame.
type partsSink struct {
	pub  *publisher.Publisher
	log  zerolog.Logger
	frag cmaf.Fragmenter

	fragments, parts int
	bytes            int64
}

func (s *partsSink) chunk(ctx context.Context, c feed.Chunk) error {
	in := cmaf.Chunk{Duration: c.Duration, Independent: c.Independent}
	if c.Init != nil && s.parts > 0 {
		in.Init = &cmaf.Init{Data: c.Init} // a new init segment starts a fragment
	}
	p, closed, ok := s.frag.Add(in)
	if ok {
		if err := s.pub.CloseFragment(ctx); err != nil {
			return err
		}
		s.log.Debug().Uint64("fragment", closed.Index).Stringer("duration", closed.Duration).Int("parts", closed.Parts).Msg("fragment closed")
	}
	if c.Init != nil {
		if err := s.pub.SendInit(ctx, c.Init); err != nil {
			return err
		}
		s.log.Info().Int("bytes", len(c.Init)).Msg("init segment queued")
	}
	// No Time: the relay stamps each part when it arrives, which is what
	// latency measurements compare with.
	err := s.pub.SendPart(ctx, publisher.Part{Duration: c.Duration, Data: c.Data, Independent: c.Independent})
	if err != nil {
		return err
	}
	if p.Index == 0 {
		s.fragments++
	}
	s.parts++
	s.bytes += int64(len(c.Data))
	ev := s.log.Debug()
	if s.parts == 1 {
		ev = s.log.Info()
	}
	ev.Uint64("fragment", p.Fragment).Int("part", p.Index).Stringer("duration", c.Duration).Bool("independent", c.Independent).
		Int("bytes", len(c.Data)).Msg("part queued")
	return nil
}

// cmafSource returns the function that feeds chunks for the chosen source.
func (o *options) cmafSource(log zerolog.Logger, stdin io.Reader) (func(context.Context, feed.ChunkSink) error, error) {
	switch {
	case o.sample:
		s := sample.CMAF()
		r := &feed.CMAFReplay{
			Init: s.Init.Data, Chunks: s.Chunks, TrackDurations: s.TrackDurations,
			Loops: o.loops.n, Speed: o.speed, Log: log,
		}
		return r.Run, nil
	case o.stdin:
		return func(ctx context.Context, sink feed.ChunkSink) error {
			return feed.ReadCMAF(ctx, stdin, sink)
		}, nil
	}
	input, err := o.ffmpegInput()
	if err != nil {
		return nil, err
	}
	f := &feed.FFmpegCMAF{
		Path:             o.ffmpeg,
		Input:            input,
		Encode:           feed.EncodeArgs(o.segmentOrDefault(), o.bitrate, o.copyCodecs),
		ChunkDuration:    o.chunkOrDefault(),
		FragmentDuration: o.segmentOrDefault(),
		Log:              log,
	}
	return f.Run, nil
}

func (o *options) chunkOrDefault() time.Duration {
	if o.chunk > 0 {
		return o.chunk
	}
	return 200 * time.Millisecond
}
