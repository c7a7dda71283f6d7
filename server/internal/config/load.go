package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// ErrHelp is returned by Load when the command line asks for help (-h,
// -help, --help). The caller prints Usage and exits successfully. It wraps
// flag.ErrHelp.
var ErrHelp = fmt.Errorf("help requested: %w", flag.ErrHelp)

// envFileFlag names the .env file on the command line, overriding the path
// that the caller passes to Load.
const envFileFlag = "env-file"

// maxDotenvSize bounds the .env file that Load reads.
const maxDotenvSize = 1 << 20

// SettingError is a setting whose value is unusable, or a combination of
// settings that cannot work together.
type SettingError struct {
	Env  string // the environment variable, e.g. "HTTP_PORT"
	Flag string // the flag, e.g. "--http-port"
	// Value is the offending value as given, with secrets and URL passwords
	// replaced by "***". Empty when the problem is a combination of
	// settings rather than one value.
	Value string
	// Problem says what is wrong, e.g. "is not a port number (1-65535)".
	Problem string
	// Source is where Value came from: "command line", "environment" or
	// "FILE:LINE" of a .env file; empty for a default or a combination.
	Source string
}

// SettingError sources other than a .env file.
const (
	sourceCommandLine = "command line"
	sourceEnvironment = "environment"
)

// Error reads like
//
//	HTTP_PORT (--http-port): "80x" is not a port number (1-65535) [set in .env:3]
func (e *SettingError) Error() string {
	var b strings.Builder
	b.WriteString(e.Env + " (" + e.Flag + "): ")
	if e.Value != "" {
		b.WriteString(strconv.Quote(e.Value) + " ")
	}
	b.WriteString(e.Problem)
	switch e.Source {
	case "":
	case sourceCommandLine:
		b.WriteString(" [set on the command line]")
	case sourceEnvironment:
		b.WriteString(" [set in the environment]")
	default:
		b.WriteString(" [set in " + e.Source + "]")
	}
	return b.String()
}

func settingError(env, problem string) *SettingError {
	s := lookupSetting(env)
	return &SettingError{Env: env, Flag: s.flag(), Problem: problem}
}

// Default returns the built-in defaults: what Load returns when no flag,
// environment variable or .env file sets anything.
func Default() Config {
	var c Config
	for i := range settings {
		s := &settings[i]
		if problem := s.val.set(&c, s.def); problem != "" {
			panic("config: default of " + s.env + " " + problem)
		}
	}
	return c
}

// rawFlag records a flag's text; Load parses it with the other sources.
type rawFlag struct {
	value  string
	set    bool
	isBool bool
}

func (f *rawFlag) String() string     { return f.value }
func (f *rawFlag) Set(s string) error { f.value, f.set = s, true; return nil }
func (f *rawFlag) IsBoolFlag() bool   { return f.isBool }

// Load builds the configuration from, in order of precedence: the
// command-line flags in args (without the program name), the process
// environment environ (as os.Environ returns it), the .env file at
// dotenvPath, and the defaults.
//
// The flag --env-file=PATH replaces dotenvPath; an empty PATH reads no file.
// A .env file that does not exist is skipped unless --env-file named it; an
// unreadable or malformed one is an error naming the file and the line.
// An empty value, from any source, means the setting's default, as in the
// existing server. Environment variables that are not settings are ignored.
//
// Load returns ErrHelp when args ask for help, an error naming the flag for
// an unknown flag or a stray argument, and otherwise every invalid setting
// at once (errors.Join of *SettingError), so an operator fixes them in one
// go. It prints nothing.
func Load(args []string, environ []string, dotenvPath string) (Config, error) {
	fset := flag.NewFlagSet("hlsrelay", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	fset.Usage = func() {}
	flags := make([]rawFlag, len(settings))
	for i := range settings {
		flags[i].isBool = settings[i].isBool()
		fset.Var(&flags[i], settings[i].flagName(), settings[i].usage)
	}
	envFile := rawFlag{value: dotenvPath}
	fset.Var(&envFile, envFileFlag, "read settings from this .env file")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, ErrHelp
		}
		return Config{}, commandLineError(err)
	}
	if rest := fset.Args(); len(rest) > 0 {
		return Config{}, fmt.Errorf("command line: unexpected argument %q (give values as --name=value, e.g. --tls-enabled=NO)", rest[0])
	}

	dotenv, dotenvFile, err := readDotenv(envFile.value, envFile.set)
	if err != nil {
		return Config{}, err
	}
	env := environMap(environ)

	var c Config
	var errs []error
	for i := range settings {
		s := &settings[i]
		raw, source := "", ""
		switch {
		case flags[i].set:
			raw, source = flags[i].value, sourceCommandLine
		case hasKey(env, s.env):
			raw, source = env[s.env], sourceEnvironment
		case hasEntry(dotenv, s.env):
			e := dotenv[s.env]
			raw, source = e.Value, dotenvFile+":"+strconv.Itoa(e.Line)
		}
		if !s.secret {
			raw = strings.TrimSpace(raw)
		}
		if raw == "" {
			raw, source = s.def, ""
		}
		if problem := s.val.set(&c, raw); problem != "" {
			errs = append(errs, &SettingError{
				Env: s.env, Flag: s.flag(), Value: s.display(raw), Problem: problem, Source: source,
			})
		}
	}
	if len(errs) == 0 {
		errs = c.crossCheck()
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	c.EnvFile = dotenvFile
	return c, nil
}

// commandLineError rewords the flag package's errors.
func commandLineError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("command line: unknown flag --%s (see --help)", strings.TrimLeft(name, "-"))
	}
	return fmt.Errorf("command line: %s", msg)
}

// readDotenv reads and parses the .env file at path. It returns the last
// assignment of each key and the file's name for messages (empty when no
// file was read).
func readDotenv(path string, mustExist bool) (map[string]dotenvEntry, string, error) {
	if path == "" {
		return nil, "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !mustExist {
			return nil, "", nil
		}
		return nil, "", fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDotenvSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("env file %s: %w", path, err)
	}
	if len(data) > maxDotenvSize {
		return nil, "", fmt.Errorf("env file %s: larger than %d bytes", path, maxDotenvSize)
	}
	entries, err := parseDotenv(string(data))
	if err != nil {
		var se *dotenvSyntaxError
		if errors.As(err, &se) {
			return nil, "", fmt.Errorf("env file %s:%d: %s", path, se.Line, se.Msg)
		}
		return nil, "", fmt.Errorf("env file %s: %w", path, err)
	}
	m := make(map[string]dotenvEntry, len(entries))
	for _, e := range entries {
		m[e.Key] = e
	}
	return m, path, nil
}

// environMap turns KEY=VALUE strings into a map; like os.Getenv, the first
// of duplicate keys wins.
func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func hasEntry(m map[string]dotenvEntry, k string) bool {
	_, ok := m[k]
	return ok
}

// Validate checks a Config built or changed in code: every field must be a
// value that Load would accept, and the settings must fit together. A Config
// from Load or Default is valid.
func (c Config) Validate() error {
	var errs []error
	var scratch Config
	for i := range settings {
		s := &settings[i]
		v := s.val.get(&c)
		if problem := s.val.set(&scratch, v); problem != "" {
			errs = append(errs, &SettingError{Env: s.env, Flag: s.flag(), Value: s.display(v), Problem: problem})
		}
	}
	if len(errs) == 0 {
		errs = c.crossCheck()
	}
	return errors.Join(errs...)
}

// crossCheck finds settings that are valid alone but not together.
func (c *Config) crossCheck() []error {
	var errs []error
	if !c.HTTP.Enabled && !c.TLS.Enabled {
		errs = append(errs, settingError("HTTP_ENABLED",
			"is NO and so is TLS_ENABLED (--tls-enabled); enable at least one listener"))
	}
	if c.TLS.Enabled {
		if c.TLS.CertificateFile == "" {
			errs = append(errs, settingError("TLS_CERTIFICATE", "is required when TLS_ENABLED is YES"))
		}
		if c.TLS.PrivateKeyFile == "" {
			errs = append(errs, settingError("TLS_PRIVATE_KEY", "is required when TLS_ENABLED is YES"))
		}
	}
	if c.HTTP.Enabled && c.TLS.Enabled && c.HTTP.Port == c.TLS.Port &&
		(c.HTTP.BindAddress == c.TLS.BindAddress || c.HTTP.BindAddress == "" || c.TLS.BindAddress == "") {
		e := settingError("TLS_PORT", "is also HTTP_PORT (--http-port); the two listeners need different ports")
		e.Value = strconv.Itoa(c.TLS.Port)
		errs = append(errs, e)
	}
	if c.Server.HealthPath == c.Server.WebSocketPath {
		e := settingError("HEALTH_PATH", "is also WEBSOCKET_PREFIX (--websocket-prefix); choose another path")
		e.Value = c.Server.HealthPath
		errs = append(errs, e)
	}
	if c.Relay.FromEnabled && c.Relay.FromURL == "" {
		errs = append(errs, settingError("RELAY_FROM_URL", "is required when RELAY_FROM_ENABLED is YES"))
	}
	errs = append(errs, c.metricsCrossCheck()...)
	if c.Admin.Enabled && c.Admin.Token == "" {
		errs = append(errs, settingError("ADMIN_TOKEN", "is required when ADMIN_ENABLED is YES (e.g. openssl rand -hex 32)"))
	}
	if c.Auth.RequireSecrets {
		if c.Auth.PullSecret == "" {
			errs = append(errs, settingError("PULL_SECRET", "is required when REQUIRE_SECRETS is YES"))
		}
		if c.Auth.PushAllowed && c.Auth.PushSecret == "" {
			errs = append(errs, settingError("PUSH_SECRET", "is required when REQUIRE_SECRETS and PUSH_ALLOWED are YES"))
		}
	}
	return errs
}
