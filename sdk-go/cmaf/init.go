package cmaf

import (
	"errors"
	"fmt"
)

// Init is a stream's initialization segment: the boxes before its first
// moof (ftyp and moov, and any others there).
type Init struct {
	// Data is the segment's bytes, as they appeared in the stream. It
	// belongs to the caller.
	Data []byte
	// Tracks lists the tracks the moov declares, in its order.
	Tracks []Track
}

// Track is one track of the moov.
type Track struct {
	// ID is the tkhd track_ID, which each traf names.
	ID uint32
	// Handler is the hdlr handler type: "vide" for video, "soun" for
	// audio, and so on.
	Handler string
	// Timescale is the mdhd timescale: media time units per second.
	Timescale uint32

	// The trex defaults, used when neither the trun nor the tfhd gives a
	// value.
	defaultDuration uint32
	defaultFlags    uint32
}

// video reports whether the track is a video track.
func (t *Track) video() bool { return t.Handler == "vide" }

// track returns the track with id, or nil.
func (in *Init) track(id uint32) *Track {
	for i := range in.Tracks {
		if in.Tracks[i].ID == id {
			return &in.Tracks[i]
		}
	}
	return nil
}

// parseInit reads the tracks of the moov among the top-level boxes in data.
func parseInit(data []byte) (*Init, error) {
	in := &Init{Data: data}
	found := false
	err := eachBox(data, func(t boxType, body []byte, _ int) error {
		if t != typeMoov {
			return nil
		}
		if found {
			return errors.New("two moov boxes")
		}
		found = true
		return in.parseMoov(body)
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("init segment: %w", err)
	case !found:
		return nil, errors.New("init segment: no moov box before the first moof")
	}
	return in, nil
}

func (in *Init) parseMoov(moov []byte) error {
	var trex [][]byte
	err := eachBox(moov, func(t boxType, body []byte, _ int) error {
		switch t {
		case typeTrak:
			tr, err := parseTrak(body)
			if err != nil {
				return err
			}
			if in.track(tr.ID) != nil {
				return fmt.Errorf("moov: two tracks with ID %d", tr.ID)
			}
			in.Tracks = append(in.Tracks, tr)
		case typeMvex:
			return eachBox(body, func(t boxType, body []byte, _ int) error {
				if t == typeTrex {
					trex = append(trex, body)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(in.Tracks) == 0 {
		return errors.New("moov: no track")
	}
	for _, body := range trex {
		f := fields{b: body}
		f.fullBox()
		id := f.u32()
		f.skip(4) // default_sample_description_index
		dur := f.u32()
		f.skip(4) // default_sample_size
		flags := f.u32()
		if f.bad {
			return fmt.Errorf("moov: trex of %d bytes is truncated", len(body))
		}
		if tr := in.track(id); tr != nil {
			tr.defaultDuration, tr.defaultFlags = dur, flags
		}
	}
	return nil
}

func parseTrak(trak []byte) (Track, error) {
	var tr Track
	var haveID, haveMdhd bool
	err := eachBox(trak, func(t boxType, body []byte, _ int) error {
		switch t {
		case typeTkhd:
			f := fields{b: body}
			if v, _ := f.fullBox(); v == 1 {
				f.skip(16) // creation and modification times
			} else {
				f.skip(8)
			}
			tr.ID = f.u32()
			if f.bad {
				return fmt.Errorf("tkhd of %d bytes is truncated", len(body))
			}
			haveID = true
		case typeMdia:
			return eachBox(body, func(t boxType, body []byte, _ int) error {
				f := fields{b: body}
				switch t {
				case typeMdhd:
					if v, _ := f.fullBox(); v == 1 {
						f.skip(16)
					} else {
						f.skip(8)
					}
					tr.Timescale = f.u32()
					if f.bad {
						return fmt.Errorf("mdhd of %d bytes is truncated", len(body))
					}
					haveMdhd = true
				case typeHdlr:
					f.fullBox()
					f.skip(4) // pre_defined
					h := f.take(4)
					if f.bad {
						return fmt.Errorf("hdlr of %d bytes is truncated", len(body))
					}
					tr.Handler = boxType(h).String()
				}
				return nil
			})
		}
		return nil
	})
	switch {
	case err != nil:
		return Track{}, fmt.Errorf("trak: %w", err)
	case !haveID:
		return Track{}, errors.New("trak without tkhd")
	case !haveMdhd:
		return Track{}, fmt.Errorf("track %d: no mdhd", tr.ID)
	case tr.Timescale == 0:
		return Track{}, fmt.Errorf("track %d: mdhd timescale is 0", tr.ID)
	}
	return tr, nil
}
