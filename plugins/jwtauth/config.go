package main

import (
	"errors"

	"github.com/hlsrelay/hlsrelay/plugins/pdk"
)

// config is the plugin's configuration, given in URL-query form:
//
//	pull_secret=...&push_secret=...&push_allowed=true|false
//
// Secrets are arbitrary bytes, %-escaped; an empty or absent secret disables
// the check for its action. push_allowed defaults to false.
type config struct {
	pullSecret  []byte
	pushSecret  []byte
	pushAllowed bool
}

func parseConfig(s string) (config, error) {
	q, err := pdk.ParseConfig(s)
	if err != nil {
		return config{}, errors.New("jwtauth: config: " + err.Error())
	}
	var c config
	seen := [3]bool{}
	for i := range q.Len() {
		name, value := q.At(i)
		var k int
		switch name {
		case "pull_secret":
			k, c.pullSecret = 0, []byte(value)
		case "push_secret":
			k, c.pushSecret = 1, []byte(value)
		case "push_allowed":
			k = 2
			switch value {
			case "true":
				c.pushAllowed = true
			case "false":
				c.pushAllowed = false
			default:
				return config{}, errors.New("jwtauth: config: push_allowed must be true or false")
			}
		default:
			return config{}, errors.New("jwtauth: config: unknown parameter " + quote(name))
		}
		if seen[k] {
			return config{}, errors.New("jwtauth: config: parameter " + name + " is given twice")
		}
		seen[k] = true
	}
	return c, nil
}

// quote returns s in double quotes, cut to 64 bytes, for an error message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
