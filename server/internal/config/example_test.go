package config_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// Flags win over the environment, which wins over the .env file and the
// defaults. Warnings tell the operator about risky settings.
func ExampleLoad() {
	cfg, err := config.Load(
		[]string{"--http-port=8080"},
		[]string{"HTTP_PORT=9090", "PULL_SECRET=0123456789abcdef0123456789abcdef", "PUSH_ALLOWED=NO", "LOG_DEBUG=YES"},
		"", // no .env file
	)
	if errors.Is(err, config.ErrHelp) {
		_ = config.Usage(os.Stdout)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.HTTP.Addr(), cfg.Log.MinLevel(), cfg.Redacted().Auth.PullSecret, len(cfg.Warnings()))
	// Output: :8080 debug *** 0
}

func ExampleLoad_invalid() {
	_, err := config.Load(nil, []string{"HTTP_PORT=80x", "RELAY_FROM_URL=http://origin/"}, "")
	fmt.Println(err)
	// Output:
	// HTTP_PORT (--http-port): "80x" is not a port number (1-65535) [set in the environment]
	// RELAY_FROM_URL (--relay-from-url): "http://origin/" is not a ws:// or wss:// URL [set in the environment]
}
