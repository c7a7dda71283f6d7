package config

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeDotenv writes a .env file in a fresh directory and returns its path.
func writeDotenv(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	dotenv := writeDotenv(t, "HTTP_PORT=1001\nLOG_FORMAT=console\n")
	tests := []struct {
		name     string
		args     []string
		environ  []string
		dotenv   string
		wantPort int
	}{
		{"default", nil, nil, "", 80},
		{".env over default", nil, nil, dotenv, 1001},
		{"environment over .env", nil, []string{"HTTP_PORT=1002"}, dotenv, 1002},
		{"flag over environment", []string{"--http-port=1003"}, []string{"HTTP_PORT=1002"}, dotenv, 1003},
		{"flag over .env", []string{"--http-port", "1003"}, nil, dotenv, 1003},
		{"single-dash flag", []string{"-http-port=1004"}, nil, dotenv, 1004},
		{"last flag wins", []string{"--http-port=1", "--http-port=1005"}, nil, "", 1005},
		// As with the existing server (godotenv never overrides a variable
		// that is set, and an empty one means the default).
		{"empty environment variable is the default", nil, []string{"HTTP_PORT="}, dotenv, 80},
		{"empty flag is the default", []string{"--http-port="}, []string{"HTTP_PORT=1002"}, dotenv, 80},
		{"first duplicate in environ wins", nil, []string{"HTTP_PORT=1006", "HTTP_PORT=1007"}, "", 1006},
		{"--env-file replaces the path", []string{"--env-file=" + dotenv}, nil, "", 1001},
		{"empty --env-file reads no file", []string{"--env-file="}, nil, dotenv, 80},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tc.args, tc.environ, tc.dotenv)
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP.Port != tc.wantPort {
				t.Errorf("HTTP.Port = %d, want %d", c.HTTP.Port, tc.wantPort)
			}
		})
	}
}

func TestDotenvFile(t *testing.T) {
	t.Parallel()
	path := writeDotenv(t, `# hlsrelay
export HTTP_PORT=8080
PULL_SECRET='s3cr$t # not a comment'
PUSH_SECRET="line\tone"   # a comment
RATE_LIMIT_WHITELIST = 10.0.0.0/8 , 127.0.0.1   # spaces are fine
UNRELATED_VARIABLE=ignored
LOG_FORMAT=json
LOG_FORMAT=console
`)
	c, err := Load(nil, []string{"PATH=/usr/bin"}, path)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Port != 8080 {
		t.Errorf("HTTP.Port = %d", c.HTTP.Port)
	}
	if c.Auth.PullSecret != "s3cr$t # not a comment" {
		t.Errorf("PullSecret = %q", c.Auth.PullSecret)
	}
	if c.Auth.PushSecret != "line\tone" {
		t.Errorf("PushSecret = %q", c.Auth.PushSecret)
	}
	if want := prefixes("10.0.0.0/8", "127.0.0.1/32"); !reflect.DeepEqual(c.RateLimit.Whitelist, want) {
		t.Errorf("Whitelist = %v", c.RateLimit.Whitelist)
	}
	if c.Log.Format != "console" {
		t.Errorf("Log.Format = %q: the last assignment should win", c.Log.Format)
	}
	if c.EnvFile != path {
		t.Errorf("EnvFile = %q, want %q", c.EnvFile, path)
	}
}

func TestDotenvFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.env")
	malformed := writeDotenv(t, "HTTP_PORT=80\nthis is not an assignment\n")
	unterminated := writeDotenv(t, "A=1\nPULL_SECRET=\"abc\n\nB=2\n")
	badValue := writeDotenv(t, "\n\nHTTP_PORT=80x\n")
	big := writeDotenv(t, strings.Repeat("# padding\n", maxDotenvSize/10+1))

	t.Run("missing file passed by the caller is fine", func(t *testing.T) {
		t.Parallel()
		c, err := Load(nil, nil, missing)
		if err != nil {
			t.Fatal(err)
		}
		if c.EnvFile != "" {
			t.Errorf("EnvFile = %q, want empty", c.EnvFile)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		path string
		want string
	}{
		{"missing file named by --env-file", []string{"--env-file=" + missing}, "",
			"env file: open " + missing + ": no such file or directory"},
		{"directory", nil, dir, "env file " + dir + ": read " + dir + ": is a directory"},
		{"malformed", nil, malformed, "env file " + malformed + ":2: expected KEY=VALUE after this"},
		{"unterminated quote", nil, unterminated, "env file " + unterminated + ":2: the double-quoted value of PULL_SECRET has no closing quote"},
		{"bad value", nil, badValue, `HTTP_PORT (--http-port): "80x" is not a port number (1-65535) [set in ` + badValue + `:3]`},
		{"too large", nil, big, "env file " + big + ": larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.args, nil, tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestDotenvUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	path := writeDotenv(t, "HTTP_PORT=80\n")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(nil, nil, path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v should name %s", err, path)
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // error; "" for none
	}{
		{"unknown flag", []string{"--htp-port=80"}, "command line: unknown flag --htp-port (see --help)"},
		{"stray argument", []string{"--tls-enabled", "NO"},
			`command line: unexpected argument "NO" (give values as --name=value, e.g. --tls-enabled=NO)`},
		{"missing value", []string{"--http-port"}, "command line: flag needs an argument: -http-port"},
		{"bare boolean flag", []string{"--log-debug"}, ""},
		{"boolean flag with value", []string{"--log-debug=NO"}, ""},
		{"stop at --", []string{"--", "--http-port=1"}, `command line: unexpected argument "--http-port=1" (give values as --name=value, e.g. --tls-enabled=NO)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.args, nil, "")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
	c, err := Load([]string{"--log-debug"}, []string{"LOG_DEBUG=NO"}, "")
	if err != nil || !c.Log.Debug {
		t.Errorf("--log-debug: Debug = %v, err = %v", c.Log.Debug, err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help", "--h"} {
		_, err := Load([]string{"--http-port=1", arg}, nil, "")
		if err != ErrHelp {
			t.Errorf("%s: err = %v, want ErrHelp", arg, err)
		}
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: ErrHelp should wrap flag.ErrHelp", arg)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := Usage(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range settings {
		line := s.flag() + "=" + s.val.placeholder() + "  (" + s.env + "; "
		if !strings.Contains(out, line) {
			t.Errorf("usage lacks %q", line)
		}
		if !strings.Contains(out, s.usage) {
			t.Errorf("usage lacks the description of %s", s.env)
		}
		if s.secret && !strings.Contains(out, "("+s.env+"; secret, not shown)") {
			t.Errorf("usage shows the default of secret %s", s.env)
		}
	}
	for _, g := range groups {
		if !strings.Contains(out, "\n"+g+"\n") {
			t.Errorf("usage lacks group %q", g)
		}
	}
	if !strings.Contains(out, "--env-file=FILE") {
		t.Error("usage lacks --env-file")
	}
}

func TestCrossChecks(t *testing.T) {
	t.Parallel()
	tls := []string{"TLS_ENABLED=YES", "TLS_CERTIFICATE=c.pem", "TLS_PRIVATE_KEY=k.pem"}
	for _, tc := range []struct {
		name    string
		environ []string
		want    string
	}{
		{"no listener", []string{"HTTP_ENABLED=NO"},
			"HTTP_ENABLED (--http-enabled): is NO and so is TLS_ENABLED (--tls-enabled); enable at least one listener"},
		{"TLS without files", []string{"TLS_ENABLED=YES"},
			"TLS_CERTIFICATE (--tls-certificate): is required when TLS_ENABLED is YES\n" +
				"TLS_PRIVATE_KEY (--tls-private-key): is required when TLS_ENABLED is YES"},
		{"TLS without key", []string{"TLS_ENABLED=YES", "TLS_CERTIFICATE=c.pem"},
			"TLS_PRIVATE_KEY (--tls-private-key): is required when TLS_ENABLED is YES"},
		{"same port", append([]string{"TLS_PORT=80"}, tls...),
			`TLS_PORT (--tls-port): "80" is also HTTP_PORT (--http-port); the two listeners need different ports`},
		{"same port, one on all interfaces", append([]string{"TLS_PORT=80", "HTTP_BIND_ADDRESS=127.0.0.1"}, tls...),
			`TLS_PORT (--tls-port): "80" is also HTTP_PORT (--http-port); the two listeners need different ports`},
		{"same port, different addresses", append([]string{"TLS_PORT=80", "HTTP_BIND_ADDRESS=127.0.0.1", "TLS_BIND_ADDRESS=10.0.0.1"}, tls...), ""},
		{"same port, HTTP off", append([]string{"TLS_PORT=80", "HTTP_ENABLED=NO"}, tls...), ""},
		{"health path is the WebSocket path", []string{"WEBSOCKET_PREFIX=/healthz"},
			`HEALTH_PATH (--health-path): "/healthz" is also WEBSOCKET_PREFIX (--websocket-prefix); choose another path`},
		{"relay without URL", []string{"RELAY_FROM_ENABLED=YES"},
			"RELAY_FROM_URL (--relay-from-url): is required when RELAY_FROM_ENABLED is YES"},
		{"relay with URL", []string{"RELAY_FROM_ENABLED=YES", "RELAY_FROM_URL=ws://origin:8080/"}, ""},
		{"require secrets, none", []string{"REQUIRE_SECRETS=YES"},
			"PULL_SECRET (--pull-secret): is required when REQUIRE_SECRETS is YES\n" +
				"PUSH_SECRET (--push-secret): is required when REQUIRE_SECRETS and PUSH_ALLOWED are YES"},
		{"require secrets, relay-only node", []string{"REQUIRE_SECRETS=YES", "PULL_SECRET=x", "PUSH_ALLOWED=NO"}, ""},
		{"require secrets, both", []string{"REQUIRE_SECRETS=YES", "PULL_SECRET=x", "PUSH_SECRET=y"}, ""},
		// Combinations are checked only once every value parses.
		{"bad value hides combinations", []string{"HTTP_ENABLED=NO", "TLS_ENABLED=perhaps"},
			`TLS_ENABLED (--tls-enabled): "perhaps" is not a boolean (YES or NO) [set in the environment]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, tc.environ, "")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			if err == nil {
				if verr := c.Validate(); verr != nil {
					t.Errorf("Validate of a loaded config: %v", verr)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"port 0", func(c *Config) { c.HTTP.Port = 0 }, `HTTP_PORT (--http-port): "0" is not a port number (1-65535)`},
		{"zero timeout", func(c *Config) { c.Limits.WriteTimeout = 0 }, `WRITE_TIMEOUT_SECONDS (--write-timeout-seconds): "0" must be more than 0 seconds`},
		{"zero grace is fine", func(c *Config) { c.Limits.PublisherGrace = 0 }, ""},
		{"empty log format", func(c *Config) { c.Log.Format = "" }, `LOG_FORMAT (--log-format): is not a log format (json or console)`},
		{"invalid prefix", func(c *Config) { c.RateLimit.Whitelist = []netip.Prefix{{}} }, `RATE_LIMIT_WHITELIST (--rate-limit-whitelist): "invalid Prefix" has "invalid Prefix", which is not an IP address or CIDR range`},
		{"combination", func(c *Config) { c.Relay.FromEnabled = true }, "RELAY_FROM_URL (--relay-from-url): is required when RELAY_FROM_ENABLED is YES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.change(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

const (
	pullSecret = "pull-0123456789abcdef0123456789abcdef"
	pushSecret = "push-0123456789abcdef0123456789abcdef"
	redisPass  = "redis-hunter2"
)

func TestRedactedAndSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(nil, []string{
		"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret, "PUB_REG_REDIS_PASSWORD=" + redisPass,
		"RELAY_FROM_URL=wss://relay:urlpass@origin.example.com/", "RATE_LIMIT_WHITELIST=10.0.0.0/8",
		"HTTP_PORT=8080",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	if r.Auth.PullSecret != "***" || r.Auth.PushSecret != "***" || r.Registry.Password != "***" {
		t.Errorf("secrets not redacted: %+v %+v", r.Auth, r.Registry)
	}
	if r.Relay.FromURL != "wss://relay:***@origin.example.com/" {
		t.Errorf("FromURL = %q", r.Relay.FromURL)
	}
	if c.Auth.PullSecret != pullSecret || c.Relay.FromURL != "wss://relay:urlpass@origin.example.com/" {
		t.Error("Redacted changed the original")
	}
	r.RateLimit.Whitelist[0] = netip.Prefix{}
	if !c.RateLimit.Whitelist[0].IsValid() {
		t.Error("Redacted shares the whitelist")
	}
	if d := Default().Redacted(); d.Auth.PullSecret != "" {
		t.Errorf("an empty secret should stay empty, got %q", d.Auth.PullSecret)
	}

	list := c.Settings()
	if len(list) != len(settings) {
		t.Fatalf("Settings() has %d entries, want %d", len(list), len(settings))
	}
	all := ""
	for _, s := range list {
		all += s.Env + "=" + s.Value + "\n"
		switch s.Env {
		case "HTTP_PORT":
			if s.Value != "8080" || s.Default || s.Flag != "--http-port" || s.Group != groupListeners {
				t.Errorf("HTTP_PORT entry = %+v", s)
			}
		case "TLS_PORT":
			if s.Value != "443" || !s.Default {
				t.Errorf("TLS_PORT entry = %+v", s)
			}
		case "PULL_SECRET":
			if s.Value != "***" || s.Default {
				t.Errorf("PULL_SECRET entry = %+v", s)
			}
		}
	}
	for _, secret := range []string{pullSecret, pushSecret, redisPass, "urlpass"} {
		if strings.Contains(all, secret) {
			t.Errorf("Settings() shows a secret:\n%s", all)
		}
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string // prefixes of the warnings, in order
	}{
		{"defaults: both checks disabled", nil, []string{
			"PULL_SECRET is empty: PULL tokens are NOT checked",
			"PUSH_SECRET is empty and PUSH_ALLOWED is YES: PUSH tokens are NOT checked",
			"WEBSOCKET_ALLOWED_ORIGINS is empty and PULL_SECRET is empty: any web page",
		}},
		{"secrets set", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret}, nil},
		{"relay-only node without push secret", []string{"PULL_SECRET=" + pullSecret, "PUSH_ALLOWED=NO"}, nil},
		{"short secrets", []string{"PULL_SECRET=tiny-pull", "PUSH_SECRET=tiny-push"}, []string{
			"PULL_SECRET is shorter than 32 bytes",
			"PUSH_SECRET is shorter than 32 bytes",
		}},
		{"equal secrets", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pullSecret}, []string{
			"PULL_SECRET and PUSH_SECRET are equal",
		}},
		{"stream buffer below a fragment", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret, "STREAM_BUFFER_MAX_MB=8"}, []string{
			"STREAM_BUFFER_MAX_MB is smaller than MAX_BINARY_MESSAGE_SIZE",
		}},
		{"global limit below a stream", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"BUFFER_MEMORY_LIMITER_ENABLED=YES", "BUFFER_MEMORY_LIMIT_MB=32"}, []string{
			"BUFFER_MEMORY_LIMIT_MB is smaller than STREAM_BUFFER_MAX_MB",
		}},
		{"global limit disabled", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret, "BUFFER_MEMORY_LIMIT_MB=32"}, nil},
		{"short heartbeat timeout", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"HEARTBEAT_TIMEOUT_SECONDS=20", "HEARTBEAT_INTERVAL_SECONDS=20"}, []string{
			"HEARTBEAT_TIMEOUT_SECONDS is 20: clients of the base protocol",
			"HEARTBEAT_TIMEOUT_SECONDS is not more than HEARTBEAT_INTERVAL_SECONDS",
		}},
		{"registry without external URL", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"PUB_REG_REDIS_ENABLED=YES"}, []string{
			"EXTERNAL_WEBSOCKET_URL is empty",
		}},
		{"registry password in clear", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"PUB_REG_REDIS_ENABLED=YES", "EXTERNAL_WEBSOCKET_URL=ws://a:80/", "PUB_REG_REDIS_HOST=redis.example.com",
			"PUB_REG_REDIS_PASSWORD=" + redisPass}, []string{
			"PUB_REG_REDIS_PASSWORD is sent to redis.example.com without TLS",
		}},
		{"registry password over TLS", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"PUB_REG_REDIS_ENABLED=YES", "EXTERNAL_WEBSOCKET_URL=ws://a:80/", "PUB_REG_REDIS_HOST=redis.example.com",
			"PUB_REG_REDIS_PASSWORD=" + redisPass, "PUB_REG_REDIS_USE_TLS=YES"}, nil},
		{"no pull secret, origins listed", []string{"PUSH_SECRET=" + pushSecret,
			"WEBSOCKET_ALLOWED_ORIGINS=https://player.example.com"}, []string{
			"PULL_SECRET is empty: PULL tokens are NOT checked",
		}},
		{"auth plugin without origins", []string{"AUTH_PLUGIN=auth.wasm"}, []string{
			"PULL_SECRET is empty: PULL tokens are NOT checked",
			"PUSH_SECRET is empty and PUSH_ALLOWED is YES",
			"WEBSOCKET_ALLOWED_ORIGINS is empty and AUTH_PLUGIN is set",
		}},
		{"every proxy trusted", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"TRUSTED_PROXIES=10.0.0.0/8,*"}, []string{
			"TRUSTED_PROXIES contains 0.0.0.0/0: every client can choose",
		}},
		{"rate limit with no limit", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"RATE_LIMIT_ENABLED=YES"}, []string{
			"RATE_LIMIT_ENABLED is YES but RATE_LIMIT_CONNECTIONS and RATE_LIMIT_REQ_PER_SEC are 0",
		}},
		{"rate limit with a limit", []string{"PULL_SECRET=" + pullSecret, "PUSH_SECRET=" + pushSecret,
			"RATE_LIMIT_ENABLED=YES", "RATE_LIMIT_REQ_PER_SEC=5"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, tc.environ, "")
			if err != nil {
				t.Fatal(err)
			}
			got := c.Warnings()
			if len(got) != len(tc.want) {
				t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(tc.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("warning %d = %q, want prefix %q", i, got[i], tc.want[i])
				}
				for _, secret := range []string{pullSecret, pushSecret, redisPass, "tiny-"} {
					if strings.Contains(got[i], secret) {
						t.Errorf("warning shows a secret: %s", got[i])
					}
				}
			}
		})
	}
}

func TestMinLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		log  LogConfig
		want string
	}{
		{Default().Log, LevelInfo},
		{LogConfig{Error: true, Warning: true, Info: true, Debug: true, Trace: true}, LevelTrace},
		{LogConfig{Error: true, Debug: true}, LevelDebug},
		{LogConfig{Error: true, Warning: true}, LevelWarn},
		{LogConfig{Error: true}, LevelError},
		{LogConfig{Requests: true}, LevelDisabled},
		{LogConfig{}, LevelDisabled},
	} {
		if got := tc.log.MinLevel(); got != tc.want {
			t.Errorf("%+v: MinLevel() = %q, want %q", tc.log, got, tc.want)
		}
	}
	l := LogConfig{Error: true, Debug: true}
	for level, want := range map[string]bool{
		LevelTrace: false, LevelDebug: true, LevelInfo: false, LevelWarn: false, LevelError: true, "fatal": false,
	} {
		if got := l.Enabled(level); got != want {
			t.Errorf("Enabled(%q) = %v, want %v", level, got, want)
		}
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	c := Default()
	if got := c.HTTP.Addr(); got != ":80" {
		t.Errorf("HTTP.Addr() = %q", got)
	}
	c.TLS.BindAddress = "::1"
	if got := c.TLS.Addr(); got != "[::1]:443" {
		t.Errorf("TLS.Addr() = %q", got)
	}
	if got := c.Buffer.GlobalMaxBytes(); got != 0 {
		t.Errorf("GlobalMaxBytes() with the limiter off = %d", got)
	}
	if got := c.Registry.EntryTTL(); got != 2*time.Minute {
		t.Errorf("EntryTTL() = %v", got)
	}
	rl := RateLimitConfig{Whitelist: prefixes("10.0.0.0/8", "::1/128")}
	for addr, want := range map[string]bool{
		"10.1.2.3":          true,
		"::ffff:10.1.2.3":   true,
		"11.0.0.1":          false,
		"::1":               true,
		"fe80::1%eth0":      false,
		"2001:db8::1":       false,
		"::ffff:192.0.2.10": false,
	} {
		if got := rl.Whitelisted(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Whitelisted(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestSettingNames: flags follow the rule, and names are unique.
func TestSettingNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{envFileFlag: true, "h": true, "help": true}
	for _, s := range settings {
		if seen[s.flagName()] {
			t.Errorf("duplicate flag %s", s.flag())
		}
		seen[s.flagName()] = true
		if want := "--" + strings.ToLower(strings.ReplaceAll(s.env, "_", "-")); s.flag() != want {
			t.Errorf("%s: flag %s, want %s", s.env, s.flag(), want)
		}
		if s.usage == "" || s.group == "" {
			t.Errorf("%s: no usage or group", s.env)
		}
		if s.secret && s.def != "" {
			t.Errorf("%s: a secret has a default", s.env)
		}
	}
}
