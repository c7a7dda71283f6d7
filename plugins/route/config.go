package main

import (
	"errors"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk"
)

type config struct {
	local    bool
	registry bool
	upstream string // "" for none
}

func parseConfig(s string) (config, error) {
	q, err := pdk.ParseConfig(s)
	if err != nil {
		return config{}, errors.New("route: config: " + err.Error())
	}
	c := config{local: true}
	seen := [3]bool{}
	for i := range q.Len() {
		name, value := q.At(i)
		var k int
		switch name {
		case "local":
			k = 0
			if c.local, err = parseBool(name, value); err != nil {
				return config{}, err
			}
		case "registry":
			k = 1
			if c.registry, err = parseBool(name, value); err != nil {
				return config{}, err
			}
		case "upstream":
			k = 2
			if value != "" && !hasPrefix(value, "ws://") && !hasPrefix(value, "wss://") {
				return config{}, errors.New("route: config: upstream must be a ws:// or wss:// URL")
			}
			if len(value) > abi.MaxURLLen {
				return config{}, errors.New("route: config: upstream is longer than 2048 bytes")
			}
			c.upstream = value
		default:
			return config{}, errors.New("route: config: unknown parameter " + quote(name))
		}
		if seen[k] {
			return config{}, errors.New("route: config: parameter " + name + " is given twice")
		}
		seen[k] = true
	}
	return c, nil
}

func parseBool(name, value string) (bool, error) {
	switch value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("route: config: " + name + " must be true or false")
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// quote returns s in double quotes, cut to 64 bytes, for an error message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
