package pdk_test

import (
	"fmt"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/route"
)

// A routing plugin that sends PULLs of "vod/" streams to an archive relay
// and all others to this node and the registry. In a plugin, this is the
// body of an init function.
func Example_route() {
	route.Handle(func() error {
		stream, _ := pdk.Field(abi.FieldStream)
		if len(stream) > 4 && string(stream[:4]) == "vod/" {
			pdk.RouteUpstream("wss://archive.example.com/")
			return nil
		}
		pdk.RouteLocal()
		pdk.RouteRegistry()
		return nil
	})
}

// Reading the claims of a JWT: decode the payload segment, then scan its
// members. Read to the end and check Err before trusting any of them.
func ExampleJSONScanner() {
	payload, err := pdk.AppendBase64URL(nil, []byte("eyJzdWIiOiJQVUxMOmEiLCJleHAiOjE5MDAwMDAwMDB9"))
	if err != nil {
		return
	}
	var s pdk.JSONScanner
	var sub []byte
	s.Reset(payload)
	for s.Next() {
		if string(s.Key()) == "sub" && s.Kind() == pdk.JSONString {
			sub = append(sub[:0], s.Text()...)
		}
	}
	if s.Err() != nil {
		return
	}
	fmt.Println(string(sub))
	// Output: PULL:a
}

func ExampleParseConfig() {
	c, err := pdk.ParseConfig("secret=a%26b&verbose=true")
	if err != nil {
		return
	}
	fmt.Println(c.Get("secret"), c.Get("verbose") == "true")
	// Output: a&b true
}
