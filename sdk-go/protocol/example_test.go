package protocol_test

import (
	"errors"
	"fmt"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

func ExampleParse() {
	m, err := protocol.Parse([]byte("pull:stream=room1%2Fcam&auth=eyJ...&max_initial_fragments=1&ext=1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	pull, err := protocol.ParsePull(m)
	fmt.Println(m.Type, pull.Stream, pull.MaxInitialFragments, pull.Ext, err)
	// Output: PULL room1/cam 1 true <nil>
}

func ExampleParseFragment() {
	for _, text := range []string{"F:duration=2.002", "F:duration=1&seq=17&time=1764000000123&disc=1", "F:duration=-1"} {
		m, err := protocol.Parse([]byte(text))
		if err != nil {
			fmt.Println(err)
			continue
		}
		f, err := protocol.ParseFragment(m)
		if errors.Is(err, protocol.ErrMalformed) {
			// A relay answers E:code=PROTOCOL_ERROR.
			fmt.Println("PROTOCOL_ERROR:", err)
			continue
		}
		fmt.Printf("%+v\n", f)
	}
	// Output:
	// {Duration:2.002 Seq:0 HasSeq:false Time:0 Disc:false Parts:0}
	// {Duration:1 Seq:17 HasSeq:true Time:1764000000123 Disc:true Parts:0}
	// PROTOCOL_ERROR: malformed message: duration "-1" is not a non-negative number of seconds
}

func ExampleAppendFragment() {
	f := protocol.Fragment{Duration: 1.5, Seq: 42, HasSeq: true, Time: 1764000000123}
	fmt.Println(string(protocol.AppendFragment(nil, f, false))) // to a base-protocol viewer
	fmt.Println(string(protocol.AppendFragment(nil, f, true)))  // to a viewer that sent ext=1
	// Output:
	// F:duration=1.5
	// F:duration=1.5&seq=42&time=1764000000123
}

func ExampleAppendPull() {
	pull := protocol.Pull{
		Stream:              "room1/cam",
		Auth:                "eyJ...",
		MaxInitialFragments: -1, // all buffered
		Ext:                 true,
		Resume:              protocol.Resume{Epoch: "m3k9x2", After: 18},
	}
	fmt.Println(string(protocol.AppendPull(nil, pull)))
	// Output: PULL:stream=room1%2Fcam&auth=eyJ...&ext=1&epoch=m3k9x2&after=18
}

func ExampleError() {
	m, _ := protocol.Parse([]byte("E:code=AUTH_ERROR&message=token%20has%20expired"))
	relayErr, _ := protocol.ParseError(m)
	var err error = relayErr
	var target *protocol.Error
	if errors.As(err, &target) && target.Code == protocol.CodeAuth {
		fmt.Println(err)
	}
	// Output: relay error AUTH_ERROR: token has expired
}
