package config

import (
	"fmt"
	"io"
	"strings"
)

// Usage writes the --help text: every flag with its environment variable,
// default and description, grouped by concern. Secrets' defaults are not
// shown.
func Usage(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`Usage: hlsrelay [flags]

hlsrelay is a low-latency live-video relay. Every setting is a flag and an
environment variable, and can be written in a .env file. Precedence:
flag > environment > .env file > default. An empty value means the default.
Booleans are YES or NO (also true/false, 1/0). Durations are in seconds.
Reference: docs/configuration.md; sample file: hlsrelay.env.example.

Command line
  --env-file=FILE
        read settings from this .env file (default .env in the working
        directory; it may be missing unless named here; empty: none)
  -h, --help
        print this help
`)
	for _, g := range groups {
		b.WriteString("\n" + g + "\n")
		for i := range settings {
			s := &settings[i]
			if s.group != g {
				continue
			}
			def := "default " + s.def
			switch {
			case s.secret:
				def = "secret, not shown"
			case s.def == "":
				def = "default empty"
			}
			fmt.Fprintf(&b, "  %s=%s  (%s; %s)\n        %s\n", s.flag(), s.val.placeholder(), s.env, def, s.usage)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
