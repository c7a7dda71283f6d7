package config

// DemoConfig is the player demo page (player-demo) that the relay can serve
// itself, for trying a stream in a browser without another web server.
type DemoConfig struct {
	// Enabled serves the page at /demo/ (DEMO_PAGE_ENABLED, default NO).
	// The page holds no secret: viewers bring a PULL token in its URL.
	Enabled bool
}
