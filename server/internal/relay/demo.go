package relay

import (
	"github.com/hlsrelay/hlsrelay/server/internal/demopage"
)

// attachDemo serves the player demo page when DEMO_PAGE_ENABLED is YES. A
// binary built without the page (plain go build) still starts: it says so
// here, and /demo/ answers 404 with how to build it.
func (r *Relay) attachDemo() {
	if !r.cfg.Demo.Enabled {
		return
	}
	page := demopage.New()
	r.handler.Demo = page
	if !page.Available() {
		r.log.Warn().Str("path", demopage.Path).
			Msg("DEMO_PAGE_ENABLED=YES, but this build has no demo page: build the relay with make build (make js puts the page in server/internal/demopage/site)")
		return
	}
	r.log.Info().Str("path", demopage.Path).Msg("serving the player demo page")
}
