package protocol

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// codecCase is one text message and what it decodes to. The same table
// drives Parse, the typed decoders, the Append* encoders, the fuzz seeds and
// the shared vectors in testdata/vectors.json.
type codecCase struct {
	name string
	text string
	// decoded is the typed value (Push, Pull, OK, Fragment, *Error, or a
	// Message for H, CLOSE and unknown types); nil means the text is
	// malformed.
	decoded any
	// wire is the canonical re-encoding of decoded; "" means text itself.
	wire string
}

var (
	streamOf255 = strings.Repeat("a", MaxStreamIDLength)
	streamOf256 = strings.Repeat("a", MaxStreamIDLength+1)
	// Code points, not bytes or UTF-16 units, are counted.
	streamOf255E    = strings.Repeat("é", MaxStreamIDLength)
	streamOf256E    = strings.Repeat("é", MaxStreamIDLength+1)
	streamOf128Emoj = strings.Repeat("😀", 128)
)

func escape(s string) string { return string(appendEscaped(nil, s)) }

func codecCases() []codecCase {
	return []codecCase{
		// PUSH
		{name: "push", text: "PUSH:stream=room1%2Fcam%2F1280x720-30~2000&auth=eyJ.x.y",
			decoded: Push{Stream: "room1/cam/1280x720-30~2000", Auth: "eyJ.x.y"}},
		{name: "push lower-case type and raw slash", text: "push:stream=room1/cam&auth=t&ext=1",
			decoded: Push{Stream: "room1/cam", Auth: "t", Ext: true}, wire: "PUSH:stream=room1%2Fcam&auth=t&ext=1"},
		{name: "push mixed-case type, params in any order", text: "Push:auth=t&stream=s",
			decoded: Push{Stream: "s", Auth: "t"}, wire: "PUSH:stream=s&auth=t"},
		{name: "push plus is a space", text: "PUSH:stream=my+room&auth=",
			decoded: Push{Stream: "my room"}, wire: "PUSH:stream=my%20room&auth="},
		{name: "push %20 is a space", text: "PUSH:stream=my%20room&auth=",
			decoded: Push{Stream: "my room"}},
		{name: "push %2B is a plus", text: "PUSH:stream=a%2Bb&auth=",
			decoded: Push{Stream: "a+b"}},
		{name: "push %25 is a percent sign", text: "PUSH:stream=100%25&auth=",
			decoded: Push{Stream: "100%"}},
		{name: "push lower-case escapes", text: "PUSH:stream=a%2fb&auth=",
			decoded: Push{Stream: "a/b"}, wire: "PUSH:stream=a%2Fb&auth="},
		{name: "push without auth", text: "PUSH:stream=s",
			decoded: Push{Stream: "s"}, wire: "PUSH:stream=s&auth="},
		{name: "push raw UTF-8 stream", text: "PUSH:stream=caf\u00e9&auth=",
			decoded: Push{Stream: "café"}, wire: "PUSH:stream=caf%C3%A9&auth="},
		{name: "push ext=2 is served as ext=1", text: "PUSH:stream=s&auth=&ext=2",
			decoded: Push{Stream: "s", Ext: true}, wire: "PUSH:stream=s&auth=&ext=1"},
		{name: "push ext=0", text: "PUSH:stream=s&auth=&ext=0",
			decoded: Push{Stream: "s"}, wire: "PUSH:stream=s&auth="},
		{name: "push empty ext", text: "PUSH:stream=s&auth=&ext=",
			decoded: Push{Stream: "s"}, wire: "PUSH:stream=s&auth="},
		{name: "push unknown parameter ignored", text: "PUSH:stream=s&auth=&x=1",
			decoded: Push{Stream: "s"}, wire: "PUSH:stream=s&auth="},
		{name: "push duplicate stream: first wins", text: "PUSH:stream=a&stream=b&auth=",
			decoded: Push{Stream: "a"}, wire: "PUSH:stream=a&auth="},
		{name: "push empty pairs skipped", text: "PUSH:&stream=s&&auth=t&",
			decoded: Push{Stream: "s", Auth: "t"}, wire: "PUSH:stream=s&auth=t"},
		{name: "push stream of 255 characters", text: "PUSH:stream=" + streamOf255 + "&auth=",
			decoded: Push{Stream: streamOf255}},
		{name: "push stream of 255 two-byte characters", text: "PUSH:stream=" + escape(streamOf255E) + "&auth=",
			decoded: Push{Stream: streamOf255E}},
		{name: "push stream of 128 emoji (256 UTF-16 units)", text: "PUSH:stream=" + escape(streamOf128Emoj) + "&auth=",
			decoded: Push{Stream: streamOf128Emoj}},
		{name: "push zero-width space is not a control character", text: "PUSH:stream=a%E2%80%8Bb&auth=",
			decoded: Push{Stream: "a\u200bb"}},
		{name: "push stream of 256 characters", text: "PUSH:stream=" + streamOf256 + "&auth="},
		{name: "push stream of 256 two-byte characters", text: "PUSH:stream=" + escape(streamOf256E) + "&auth="},
		{name: "push empty stream", text: "PUSH:stream=&auth=t"},
		{name: "push missing stream", text: "PUSH:auth=t"},
		{name: "push no parameters", text: "PUSH"},
		{name: "push stream with NUL", text: "PUSH:stream=a%00b&auth="},
		{name: "push stream with tab", text: "PUSH:stream=a%09b&auth="},
		{name: "push stream with newline", text: "PUSH:stream=a%0Ab&auth="},
		{name: "push stream with DEL", text: "PUSH:stream=a%7Fb&auth="},
		{name: "push stream with C1 control U+0085", text: "PUSH:stream=a%C2%85b&auth="},
		{name: "push stream not UTF-8", text: "PUSH:stream=a%FFb&auth="},
		{name: "push stream overlong UTF-8", text: "PUSH:stream=%C0%AF&auth="},
		{name: "push stream UTF-16 surrogate", text: "PUSH:stream=%ED%A0%80&auth="},
		{name: "push bad escape", text: "PUSH:stream=%zz&auth="},
		{name: "push truncated escape", text: "PUSH:stream=a%2&auth="},
		{name: "push percent at end", text: "PUSH:stream=a&auth=%"},
		{name: "push semicolon separator", text: "PUSH:stream=a;auth=b"},
		{name: "push bad ext", text: "PUSH:stream=s&auth=&ext=yes"},
		{name: "push negative ext", text: "PUSH:stream=s&auth=&ext=-1"},

		{name: "push parts", text: "PUSH:stream=s&auth=t&ext=1&parts=1",
			decoded: Push{Stream: "s", Auth: "t", Ext: true, Parts: true}},
		{name: "push parts=true", text: "PUSH:stream=s&auth=t&ext=1&parts=true",
			decoded: Push{Stream: "s", Auth: "t", Ext: true, Parts: true}, wire: "PUSH:stream=s&auth=t&ext=1&parts=1"},
		{name: "push parts without ext is ignored", text: "PUSH:stream=s&auth=t&parts=1",
			decoded: Push{Stream: "s", Auth: "t"}, wire: "PUSH:stream=s&auth=t"},
		{name: "push bad parts", text: "PUSH:stream=s&auth=t&ext=1&parts=2"},

		// PULL
		{name: "pull base", text: "PULL:stream=s&auth=t",
			decoded: Pull{Stream: "s", Auth: "t", MaxInitialFragments: -1}},
		{name: "pull lower-case type", text: "pull:stream=s&auth=t",
			decoded: Pull{Stream: "s", Auth: "t", MaxInitialFragments: -1}, wire: "PULL:stream=s&auth=t"},
		{name: "pull every parameter",
			text:    "PULL:stream=room1%2Fcam&auth=t&only_source=true&max_initial_fragments=3&ext=1&epoch=m3k9x2&after=18",
			decoded: Pull{Stream: "room1/cam", Auth: "t", OnlySource: true, MaxInitialFragments: 3, Ext: true, Resume: Resume{Epoch: "m3k9x2", After: 18}}},
		{name: "pull max_initial_fragments=0", text: "PULL:stream=s&auth=&max_initial_fragments=0",
			decoded: Pull{Stream: "s"}},
		{name: "pull max_initial_fragments leading zeros", text: "PULL:stream=s&auth=&max_initial_fragments=007",
			decoded: Pull{Stream: "s", MaxInitialFragments: 7}, wire: "PULL:stream=s&auth=&max_initial_fragments=7"},
		{name: "pull max_initial_fragments=2^53-1", text: "PULL:stream=s&auth=&max_initial_fragments=9007199254740991",
			decoded: Pull{Stream: "s", MaxInitialFragments: MaxInteger}},
		{name: "pull empty max_initial_fragments is absent", text: "PULL:stream=s&auth=&max_initial_fragments=",
			decoded: Pull{Stream: "s", MaxInitialFragments: -1}, wire: "PULL:stream=s&auth="},
		{name: "pull only_source=TRUE", text: "PULL:stream=s&auth=&only_source=TRUE",
			decoded: Pull{Stream: "s", OnlySource: true, MaxInitialFragments: -1}, wire: "PULL:stream=s&auth=&only_source=true"},
		{name: "pull only_source=1", text: "PULL:stream=s&auth=&only_source=1",
			decoded: Pull{Stream: "s", OnlySource: true, MaxInitialFragments: -1}, wire: "PULL:stream=s&auth=&only_source=true"},
		{name: "pull only_source=false", text: "PULL:stream=s&auth=&only_source=false",
			decoded: Pull{Stream: "s", MaxInitialFragments: -1}, wire: "PULL:stream=s&auth="},
		{name: "pull resume without ext is ignored", text: "PULL:stream=s&auth=&epoch=e1&after=5",
			decoded: Pull{Stream: "s", MaxInitialFragments: -1}, wire: "PULL:stream=s&auth="},
		{name: "pull after without epoch is ignored", text: "PULL:stream=s&auth=&ext=1&after=5",
			decoded: Pull{Stream: "s", MaxInitialFragments: -1, Ext: true}, wire: "PULL:stream=s&auth=&ext=1"},
		{name: "pull resume epoch with spaces", text: "PULL:stream=s&auth=&ext=1&epoch=a+b&after=0",
			decoded: Pull{Stream: "s", MaxInitialFragments: -1, Ext: true, Resume: Resume{Epoch: "a b"}},
			wire:    "PULL:stream=s&auth=&ext=1&epoch=a%20b&after=0"},
		{name: "pull negative max_initial_fragments", text: "PULL:stream=s&auth=&max_initial_fragments=-1"},
		{name: "pull max_initial_fragments with plus sign", text: "PULL:stream=s&auth=&max_initial_fragments=%2B3"},
		{name: "pull max_initial_fragments with space", text: "PULL:stream=s&auth=&max_initial_fragments=+3"},
		{name: "pull max_initial_fragments not an integer", text: "PULL:stream=s&auth=&max_initial_fragments=1.5"},
		{name: "pull max_initial_fragments word", text: "PULL:stream=s&auth=&max_initial_fragments=all"},
		{name: "pull max_initial_fragments over 2^53-1", text: "PULL:stream=s&auth=&max_initial_fragments=9007199254740992"},
		{name: "pull max_initial_fragments over 2^64", text: "PULL:stream=s&auth=&max_initial_fragments=99999999999999999999"},
		{name: "pull bad only_source", text: "PULL:stream=s&auth=&only_source=maybe"},
		{name: "pull resume without after", text: "PULL:stream=s&auth=&ext=1&epoch=e1"},
		{name: "pull resume with bad after", text: "PULL:stream=s&auth=&ext=1&epoch=e1&after=x"},
		{name: "pull resume with negative after", text: "PULL:stream=s&auth=&ext=1&epoch=e1&after=-1"},
		{name: "pull stream of 256 characters", text: "PULL:stream=" + streamOf256 + "&auth="},
		{name: "pull empty stream", text: "PULL:stream=&auth="},

		{name: "pull parts", text: "PULL:stream=s&auth=t&ext=1&parts=1",
			decoded: Pull{Stream: "s", Auth: "t", MaxInitialFragments: -1, Ext: true, Parts: true}},
		{name: "pull parts with resume", text: "PULL:stream=s&auth=t&ext=1&epoch=e&after=4&parts=1",
			decoded: Pull{Stream: "s", Auth: "t", MaxInitialFragments: -1, Ext: true, Parts: true, Resume: Resume{Epoch: "e", After: 4}}},
		{name: "pull parts without ext is ignored", text: "PULL:stream=s&auth=t&parts=1",
			decoded: Pull{Stream: "s", Auth: "t", MaxInitialFragments: -1}, wire: "PULL:stream=s&auth=t"},
		{name: "pull bad parts", text: "PULL:stream=s&auth=t&ext=1&parts=x"},

		// OK
		{name: "ok base", text: "OK", decoded: OK{}},
		{name: "ok lower-case", text: "ok", decoded: OK{}, wire: "OK"},
		{name: "ok empty query", text: "OK:", decoded: OK{}, wire: "OK"},
		{name: "ok ext for a publisher", text: "OK:ext=1&epoch=m3k9x2&next=17",
			decoded: OK{Ext: true, Epoch: "m3k9x2", Next: 17, HasNext: true}},
		{name: "ok ext for a viewer", text: "OK:ext=1&epoch=m3k9x2",
			decoded: OK{Ext: true, Epoch: "m3k9x2"}},
		{name: "ok ext only", text: "OK:ext=1", decoded: OK{Ext: true}},
		{name: "ok next=0", text: "OK:ext=1&epoch=e&next=0",
			decoded: OK{Ext: true, Epoch: "e", HasNext: true}},
		{name: "ok extension parameters without ext are ignored", text: "OK:epoch=e&next=5",
			decoded: OK{}, wire: "OK"},
		{name: "ok bad next", text: "OK:ext=1&epoch=e&next=x"},
		{name: "ok next over 2^53-1", text: "OK:ext=1&epoch=e&next=18446744073709551615"},
		{name: "ok bad ext", text: "OK:ext=x"},
		{name: "ok parts", text: "OK:ext=1&epoch=e&parts=1", decoded: OK{Ext: true, Epoch: "e", Parts: true}},
		{name: "ok parts with next_part", text: "OK:ext=1&epoch=e&next=3&parts=1&next_part=2",
			decoded: OK{Ext: true, Epoch: "e", Next: 3, HasNext: true, Parts: true, NextPart: 2}},
		{name: "ok next_part without parts is ignored", text: "OK:ext=1&epoch=e&next_part=2",
			decoded: OK{Ext: true, Epoch: "e"}, wire: "OK:ext=1&epoch=e"},
		{name: "ok bad next_part", text: "OK:ext=1&parts=1&next_part=-1"},
		{name: "ok bad parts", text: "OK:ext=1&parts=maybe"},

		// F
		{name: "fragment base", text: "F:duration=1", decoded: Fragment{Duration: 1}},
		{name: "fragment lower-case", text: "f:duration=2.002", decoded: Fragment{Duration: 2.002}, wire: "F:duration=2.002"},
		{name: "fragment ext", text: "F:duration=1&seq=17&time=1764000000123",
			decoded: Fragment{Duration: 1, Seq: 17, HasSeq: true, Time: 1764000000123}},
		{name: "fragment disc", text: "F:duration=0.5&seq=0&disc=1",
			decoded: Fragment{Duration: 0.5, HasSeq: true, Disc: true}},
		{name: "fragment disc=true", text: "F:duration=1&disc=true",
			decoded: Fragment{Duration: 1, Disc: true}, wire: "F:duration=1&disc=1"},
		{name: "fragment disc=0", text: "F:duration=1&disc=0",
			decoded: Fragment{Duration: 1}, wire: "F:duration=1"},
		{name: "fragment time=0 is unknown", text: "F:duration=1&time=0",
			decoded: Fragment{Duration: 1}, wire: "F:duration=1"},
		{name: "fragment duration 0", text: "F:duration=0", decoded: Fragment{}},
		{name: "fragment duration exponent", text: "F:duration=1e-3", decoded: Fragment{Duration: 0.001}, wire: "F:duration=0.001"},
		{name: "fragment duration upper-case exponent", text: "F:duration=2E%2B1", decoded: Fragment{Duration: 20}, wire: "F:duration=20"},
		{name: "fragment duration leading dot", text: "F:duration=.5", decoded: Fragment{Duration: 0.5}, wire: "F:duration=0.5"},
		{name: "fragment duration trailing dot", text: "F:duration=3.", decoded: Fragment{Duration: 3}, wire: "F:duration=3"},
		{name: "fragment duration trailing zeros", text: "F:duration=6.000000", decoded: Fragment{Duration: 6}, wire: "F:duration=6"},
		{name: "fragment duration underflows to 0", text: "F:duration=1e-400", decoded: Fragment{}, wire: "F:duration=0"},
		{name: "fragment seq=2^53-1", text: "F:duration=1&seq=9007199254740991",
			decoded: Fragment{Duration: 1, Seq: MaxInteger, HasSeq: true}},
		{name: "fragment without duration", text: "F"},
		{name: "fragment empty duration", text: "F:duration="},
		{name: "fragment negative duration", text: "F:duration=-1"},
		{name: "fragment negative zero duration", text: "F:duration=-0"},
		{name: "fragment duration with plus sign", text: "F:duration=%2B1"},
		{name: "fragment duration with space", text: "F:duration=+1"},
		{name: "fragment duration word", text: "F:duration=one"},
		{name: "fragment duration NaN", text: "F:duration=NaN"},
		{name: "fragment duration Inf", text: "F:duration=Inf"},
		{name: "fragment duration overflows", text: "F:duration=1e400"},
		{name: "fragment duration hexadecimal", text: "F:duration=0x1p-2"},
		{name: "fragment duration underscore", text: "F:duration=1_000"},
		{name: "fragment duration lone dot", text: "F:duration=."},
		{name: "fragment duration exponent without digits", text: "F:duration=1e"},
		{name: "fragment duration comma", text: "F:duration=1,5"},
		{name: "fragment negative seq", text: "F:duration=1&seq=-1"},
		{name: "fragment fractional seq", text: "F:duration=1&seq=1.0"},
		{name: "fragment seq over 2^53-1", text: "F:duration=1&seq=9007199254740992"},
		{name: "fragment negative time", text: "F:duration=1&time=-5"},
		{name: "fragment fractional time", text: "F:duration=1&time=1.5"},
		{name: "fragment bad disc", text: "F:duration=1&disc=2"},
		{name: "fragment closing parts", text: "F:duration=1.001&seq=4&time=1764000000123&parts=5",
			decoded: Fragment{Duration: 1.001, Seq: 4, HasSeq: true, Time: 1764000000123, Parts: 5}},
		{name: "fragment parts=0 is a whole fragment", text: "F:duration=1&parts=0",
			decoded: Fragment{Duration: 1}, wire: "F:duration=1"},
		{name: "fragment bad parts", text: "F:duration=1&parts=-2"},

		// I and P (parts extension)
		{name: "init", text: "I", decoded: Message{Type: TypeInit}},
		{name: "init lower-case", text: "i", decoded: Message{Type: TypeInit}, wire: "I"},
		{name: "part", text: "P:seq=4&part=0&duration=0.2&independent=1&time=1764000000123",
			decoded: Part{Seq: 4, HasSeq: true, Duration: 0.2, Independent: true, Time: 1764000000123}},
		{name: "part not independent, disc", text: "P:seq=0&part=3&duration=0.2&disc=1",
			decoded: Part{HasSeq: true, Index: 3, Duration: 0.2, Disc: true}},
		{name: "part from a publisher without seq", text: "p:part=1&duration=.2&independent=false",
			decoded: Part{Index: 1, Duration: 0.2}, wire: "P:part=1&duration=0.2"},
		{name: "part without index", text: "P:seq=1&duration=0.2"},
		{name: "part without duration", text: "P:seq=1&part=0"},
		{name: "part bad independent", text: "P:part=0&duration=0.2&independent=2"},
		{name: "part negative index", text: "P:part=-1&duration=0.2"},
		{name: "part bad time", text: "P:part=0&duration=0.2&time=x"},
		{name: "part bad seq", text: "P:seq=1.5&part=0&duration=0.2"},

		// E
		{name: "error", text: "E:code=AUTH_ERROR&message=invalid%20token",
			decoded: &Error{Code: CodeAuth, Message: "invalid token"}},
		{name: "error lower-case, plus", text: "e:code=PROTOCOL_ERROR&message=bad+message",
			decoded: &Error{Code: CodeProtocol, Message: "bad message"}, wire: "E:code=PROTOCOL_ERROR&message=bad%20message"},
		{name: "error UTF-8 message", text: "E:code=STREAM_BUSY&message=%E2%9C%93",
			decoded: &Error{Code: CodeStreamBusy, Message: "✓"}},
		{name: "error without message", text: "E:code=UNAVAILABLE",
			decoded: &Error{Code: CodeUnavailable}, wire: "E:code=UNAVAILABLE&message="},
		{name: "error without parameters", text: "E", decoded: &Error{}, wire: "E:code=&message="},
		{name: "error message not UTF-8", text: "E:code=X&message=%FF"},

		// Messages without typed parameters, and unknown types.
		{name: "heartbeat", text: "H", decoded: Message{Type: TypeHeartbeat}},
		{name: "heartbeat lower-case", text: "h", decoded: Message{Type: TypeHeartbeat}, wire: "H"},
		{name: "heartbeat empty query", text: "H:", decoded: Message{Type: TypeHeartbeat}, wire: "H"},
		{name: "heartbeat only separators", text: "H:&&", decoded: Message{Type: TypeHeartbeat}, wire: "H"},
		{name: "close", text: "CLOSE", decoded: Message{Type: TypeClose}},
		{name: "close mixed-case", text: "Close", decoded: Message{Type: TypeClose}, wire: "CLOSE"},
		{name: "unknown type with digits", text: "FOO2:a=1&b=x%20y",
			decoded: Message{Type: "FOO2", Params: url.Values{"a": {"1"}, "b": {"x y"}}}},
		{name: "unknown type, empty name", text: "X:=v",
			decoded: Message{Type: "X", Params: url.Values{"": {"v"}}}},
		{name: "unknown type, name without value", text: "X:a",
			decoded: Message{Type: "X", Params: url.Values{"a": {""}}}, wire: "X:a="},
		{name: "unknown type, repeated name", text: "X:a=2&a=1",
			decoded: Message{Type: "X", Params: url.Values{"a": {"2", "1"}}}},
		{name: "unknown type, escaped name", text: "X:a%20b=%26",
			decoded: Message{Type: "X", Params: url.Values{"a b": {"&"}}}},
		{name: "empty message", text: ""},
		{name: "empty type", text: ":stream=s"},
		{name: "type with space", text: "PU SH:stream=s"},
		{name: "type with dash", text: "PUSH-1:stream=s"},
		{name: "type with non-ASCII letter", text: "P\u00dcSH:stream=s"},
		{name: "type with trailing space", text: "H "},
		{name: "bad escape in unknown type", text: "CLOSE:%zz"},
		{name: "name not UTF-8", text: "X:%FF=1"},
		{name: "raw bytes not UTF-8", text: "X:a=\xff"},
	}
}

// decode runs the typed decoder for m's type; other types decode to m.
func decode(m Message) (any, error) {
	switch m.Type {
	case TypePush:
		return ParsePush(m)
	case TypePull:
		return ParsePull(m)
	case TypeOK:
		return ParseOK(m)
	case TypeFragment:
		return ParseFragment(m)
	case TypePart:
		return ParsePart(m)
	case TypeError:
		return ParseError(m)
	}
	return m, nil
}

// encode is the inverse of decode, with extensions on.
func encode(v any) []byte {
	switch v := v.(type) {
	case Push:
		return AppendPush(nil, v)
	case Pull:
		return AppendPull(nil, v)
	case OK:
		return AppendOK(nil, v)
	case Fragment:
		return AppendFragment(nil, v, true)
	case Part:
		return AppendPart(nil, v)
	case *Error:
		return AppendError(nil, v)
	case Message:
		return v.AppendText(nil)
	}
	panic("encode: unexpected type")
}

func parseAndDecode(text []byte) (any, error) {
	m, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return decode(m)
}

func TestCodec(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range codecCases() {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseAndDecode([]byte(tc.text))
			if tc.decoded == nil {
				if err == nil {
					t.Fatalf("decoded %q to %#v, want an error", tc.text, got)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode %q: %v", tc.text, err)
			}
			if !reflect.DeepEqual(got, tc.decoded) {
				t.Fatalf("decode %q:\n got %#v\nwant %#v", tc.text, got, tc.decoded)
			}
			wire := tc.wire
			if wire == "" {
				wire = tc.text
			}
			if enc := string(encode(got)); enc != wire {
				t.Fatalf("encode %#v:\n got %q\nwant %q", got, enc, wire)
			}
			again, err := parseAndDecode([]byte(wire))
			if err != nil {
				t.Fatalf("decode re-encoded %q: %v", wire, err)
			}
			if !reflect.DeepEqual(again, tc.decoded) {
				t.Fatalf("decode re-encoded %q:\n got %#v\nwant %#v", wire, again, tc.decoded)
			}
		})
	}
}

func TestParseKeepsRawMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range codecCases() {
		if tc.decoded == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkMessageRoundTrip(t, []byte(tc.text))
		})
	}
}

// checkMessageRoundTrip checks that a message Parse accepts is re-encoded by
// AppendText into a text that parses to the same message, canonically.
func checkMessageRoundTrip(t *testing.T, text []byte) {
	t.Helper()
	m, err := Parse(text)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse(%q) error %v does not wrap ErrMalformed", text, err)
		}
		return
	}
	if m.Type == "" || strings.ToUpper(m.Type) != m.Type {
		t.Fatalf("Parse(%q) type %q is not upper-case", text, m.Type)
	}
	if m.Params != nil && len(m.Params) == 0 {
		t.Fatalf("Parse(%q) returned empty non-nil Params", text)
	}
	wire := m.AppendText(nil)
	m2, err := Parse(wire)
	if err != nil {
		t.Fatalf("Parse(%q) = %#v, re-encoded as %q which does not parse: %v", text, m, wire, err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Fatalf("Parse(%q) = %#v, re-encoded as %q, parsed again as %#v", text, m, wire, m2)
	}
	if wire2 := m2.AppendText(nil); string(wire2) != string(wire) {
		t.Fatalf("re-encoding is not canonical: %q then %q", wire, wire2)
	}
}

// checkTypedRoundTrip checks that a message the typed decoder accepts is
// re-encoded by Append* into a text that decodes to the same value.
func checkTypedRoundTrip(t *testing.T, text []byte) {
	t.Helper()
	v, err := parseAndDecode(text)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode(%q) error %v does not wrap ErrMalformed", text, err)
		}
		return
	}
	wire := encode(v)
	v2, err := parseAndDecode(wire)
	if err != nil {
		t.Fatalf("decode(%q) = %#v, re-encoded as %q which does not decode: %v", text, v, wire, err)
	}
	if !reflect.DeepEqual(v, v2) {
		t.Fatalf("decode(%q) = %#v, re-encoded as %q, decoded again as %#v", text, v, wire, v2)
	}
	if wire2 := encode(v2); string(wire2) != string(wire) {
		t.Fatalf("re-encoding is not canonical: %q then %q", wire, wire2)
	}
	if f, ok := v.(Fragment); ok {
		// The base form keeps the duration, and only the duration.
		base, err := parseAndDecode(AppendFragment(nil, f, false))
		if err != nil || base != (Fragment{Duration: f.Duration}) {
			t.Fatalf("base form of %#v decodes to %#v, %v", f, base, err)
		}
	}
}

func TestAppendText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"no params", Message{Type: "H"}, "H"},
		{"empty params", Message{Type: "H", Params: url.Values{}}, "H"},
		{"sorted, escaped", Message{Type: "X", Params: url.Values{"b": {"x&y=z/é"}, "a b": {"1", "2"}}},
			"X:a%20b=1&a%20b=2&b=x%26y%3Dz%2F%C3%A9"},
		{"unreserved kept", Message{Type: "X", Params: url.Values{"k": {"aZ09-._~"}}}, "X:k=aZ09-._~"},
		{"plus escaped", Message{Type: "X", Params: url.Values{"k": {"a+b c"}}}, "X:k=a%2Bb%20c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.msg.String(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAppendToExistingBuffer(t *testing.T) {
	t.Parallel()
	buf := []byte("prefix|")
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"push", AppendPush(buf, Push{Stream: "s", Auth: "a"}), "prefix|PUSH:stream=s&auth=a"},
		{"pull", AppendPull(buf, Pull{Stream: "s", MaxInitialFragments: -1}), "prefix|PULL:stream=s&auth="},
		{"pull resume needs ext", AppendPull(buf, Pull{Stream: "s", MaxInitialFragments: -2, Resume: Resume{Epoch: "e"}}), "prefix|PULL:stream=s&auth="},
		{"ok base ignores ext fields", AppendOK(buf, OK{Epoch: "e", Next: 3, HasNext: true}), "prefix|OK"},
		{"fragment base ignores ext fields", AppendFragment(buf, Fragment{Duration: 1.5, Seq: 3, HasSeq: true, Time: 9, Disc: true}, false), "prefix|F:duration=1.5"},
		{"fragment ext", AppendFragment(buf, Fragment{Duration: 1.5, Seq: 3, HasSeq: true, Time: 9, Disc: true}, true), "prefix|F:duration=1.5&seq=3&time=9&disc=1"},
		{"error", AppendError(buf, &Error{Code: CodeAuth, Message: "a b"}), "prefix|E:code=AUTH_ERROR&message=a%20b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if string(tc.got) != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: CodeAuth, Message: "token expired"}, "relay error AUTH_ERROR: token expired"},
		{&Error{Code: CodeUnavailable}, "relay error UNAVAILABLE"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	var err error = &Error{Code: CodeStreamBusy}
	var perr *Error
	if !errors.As(err, &perr) || perr.Code != CodeStreamBusy {
		t.Fatalf("errors.As failed on %v", err)
	}
}

func TestErrorTruncatesLongInput(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	_, err := parseAndDecode([]byte("F:duration=" + escape(long)))
	if err == nil {
		t.Fatal("no error")
	}
	if len(err.Error()) > 200 || !strings.Contains(err.Error(), "...") {
		t.Fatalf("error not truncated: %v", err)
	}
	if !strings.Contains(err.Error(), `"ééé`) || strings.ContainsRune(err.Error(), '\uFFFD') {
		t.Fatalf("error cut a character in half: %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{1: "1", 0.5: "0.5", 2.002: "2.002", 0: "0", 1e21: "1000000000000000000000"} {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
	}
}
