package config

import (
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A value is the type of a setting: it parses a setting's text into its
// Config field and formats the field back. set returns "" on success, or
// the problem with the text ("is not a port number (1-65535)"), which
// follows the quoted value in an error message.
type value interface {
	set(c *Config, s string) (problem string)
	get(c *Config) string
	placeholder() string // the value's shape in --help, e.g. PORT
}

const mib = 1 << 20

// parseBool accepts YES/NO (the existing server's spelling), true/false and
// 1/0, in any case.
func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "1":
		return true, true
	case "no", "false", "0":
		return false, true
	}
	return false, false
}

func formatBool(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

type boolValue func(*Config) *bool

func (f boolValue) set(c *Config, s string) string {
	b, ok := parseBool(s)
	if !ok {
		return "is not a boolean (YES or NO)"
	}
	*f(c) = b
	return ""
}
func (f boolValue) get(c *Config) string { return formatBool(*f(c)) }
func (boolValue) placeholder() string    { return "YES|NO" }

type portValue func(*Config) *int

func (f portValue) set(c *Config, s string) string {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return "is not a port number (1-65535)"
	}
	*f(c) = n
	return ""
}
func (f portValue) get(c *Config) string { return strconv.Itoa(*f(c)) }
func (portValue) placeholder() string    { return "PORT" }

// countValue is a whole number of at least min.
type countValue struct {
	field func(*Config) *int
	min   int
}

func (v countValue) set(c *Config, s string) string {
	n, err := strconv.Atoi(s)
	if err != nil {
		if isDigits(strings.TrimPrefix(s, "-")) {
			return "is too large"
		}
		return "is not a whole number"
	}
	if n < v.min {
		return "must be at least " + strconv.Itoa(v.min)
	}
	*v.field(c) = n
	return ""
}
func (v countValue) get(c *Config) string { return strconv.Itoa(*v.field(c)) }
func (countValue) placeholder() string    { return "N" }

// bytesValue is a positive number of bytes.
type bytesValue func(*Config) *int64

func (f bytesValue) set(c *Config, s string) string {
	n, problem := parsePositiveInt64(s, "bytes")
	if problem != "" {
		return problem
	}
	*f(c) = n
	return ""
}
func (f bytesValue) get(c *Config) string { return strconv.FormatInt(*f(c), 10) }
func (bytesValue) placeholder() string    { return "BYTES" }

// mibValue is a positive whole number of mebibytes (the existing server's
// "MB": 1024*1024 bytes), stored as bytes.
type mibValue func(*Config) *int64

func (f mibValue) set(c *Config, s string) string {
	n, problem := parsePositiveInt64(s, "megabytes")
	if problem != "" {
		return problem
	}
	if n > math.MaxInt64/mib {
		return "is too large"
	}
	*f(c) = n * mib
	return ""
}
func (f mibValue) get(c *Config) string { return strconv.FormatInt(*f(c)/mib, 10) }
func (mibValue) placeholder() string    { return "MB" }

func parsePositiveInt64(s, unit string) (int64, string) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if isDigits(strings.TrimPrefix(s, "-")) {
			return 0, "is too large"
		}
		return 0, "is not a whole number of " + unit
	}
	if n < 1 {
		return 0, "must be at least 1"
	}
	return n, ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxSeconds keeps durations far from overflow (about 31 years).
const maxSeconds = 1e9

// secondsValue is a number of seconds, decimals allowed ("0.5"), stored as
// a time.Duration rounded to the microsecond. It must be more than zero
// unless allowZero.
type secondsValue struct {
	field     func(*Config) *time.Duration
	allowZero bool
}

func (v secondsValue) set(c *Config, s string) string {
	d, problem := parseSeconds(s)
	if problem != "" {
		return problem
	}
	switch {
	case d < 0:
		return "must not be negative"
	case d == 0 && !v.allowZero:
		return "must be more than 0 seconds"
	}
	*v.field(c) = d
	return ""
}
func (v secondsValue) get(c *Config) string { return formatSeconds(*v.field(c)) }
func (secondsValue) placeholder() string    { return "SECONDS" }

func parseSeconds(s string) (time.Duration, string) {
	digits := strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(digits, ".")
	if !(isDigits(whole) && (frac == "" || isDigits(frac))) {
		return 0, "is not a number of seconds (e.g. 10 or 0.5)"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Abs(f) > maxSeconds {
		return 0, "is too large"
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, ""
}

func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// stringValue is free text, checked by check when not nil. An empty value
// (the default of the optional settings) is never checked.
type stringValue struct {
	field func(*Config) *string
	shape string
	check func(string) string
}

func (v stringValue) set(c *Config, s string) string {
	if s != "" && v.check != nil {
		if problem := v.check(s); problem != "" {
			return problem
		}
	}
	*v.field(c) = s
	return ""
}
func (v stringValue) get(c *Config) string { return *v.field(c) }
func (v stringValue) placeholder() string  { return v.shape }

// enumValue is one of a few words, in any case, stored in lower case.
type enumValue struct {
	field   func(*Config) *string
	options []string
	what    string
}

func (v enumValue) set(c *Config, s string) string {
	lower := strings.ToLower(s)
	for _, o := range v.options {
		if lower == o {
			*v.field(c) = o
			return ""
		}
	}
	return "is not a " + v.what + " (" + strings.Join(v.options, " or ") + ")"
}
func (v enumValue) get(c *Config) string { return *v.field(c) }
func (v enumValue) placeholder() string  { return strings.Join(v.options, "|") }

// prefixListValue is a comma-separated list of IP addresses and CIDR ranges.
// "*" stands for every address (0.0.0.0/0 and ::/0), as in the existing
// server's RATE_LIMIT_WHITELIST.
type prefixListValue func(*Config) *[]netip.Prefix

func (f prefixListValue) set(c *Config, s string) string {
	var list []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "*" {
			list = append(list, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
			continue
		}
		p, ok := parsePrefix(item)
		if !ok {
			return "has " + strconv.Quote(item) + ", which is not an IP address or CIDR range"
		}
		list = append(list, p)
	}
	*f(c) = list
	return ""
}

func (f prefixListValue) get(c *Config) string {
	items := make([]string, 0, len(*f(c)))
	for _, p := range *f(c) {
		if p.IsSingleIP() {
			items = append(items, p.Addr().String())
		} else {
			items = append(items, p.String())
		}
	}
	return strings.Join(items, ",")
}
func (prefixListValue) placeholder() string { return "IP,CIDR,..." }

func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// checkWebSocketURL accepts an absolute ws:// or wss:// URL with a host.
func checkWebSocketURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Opaque != "" {
		return "is not a ws:// or wss:// URL"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "has no host"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has a bad port number"
		}
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "must not have a #fragment"
	}
	return ""
}

// checkRedisURL accepts a redis:// or rediss:// URL with a host.
func checkRedisURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Opaque != "" {
		return "is not a redis:// or rediss:// URL"
	}
	if u.Hostname() == "" {
		return "has no host"
	}
	return ""
}

// checkHostPortList accepts comma-separated host:port items.
func checkHostPortList(s string) string {
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		host, port, err := net.SplitHostPort(item)
		if err != nil || host == "" {
			return "has " + strconv.Quote(item) + ", which is not host:port"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "has " + strconv.Quote(item) + ", whose port is not 1 to 65535"
		}
	}
	return ""
}

// checkPath accepts an HTTP path: it starts with "/" and has no query,
// fragment, space or control character.
func checkPath(s string) string {
	if !strings.HasPrefix(s, "/") {
		return `must start with "/"`
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '?' || r == '#' {
			return `must be a plain path (no spaces, "?" or "#")`
		}
	}
	return ""
}

// checkHost accepts an IP address or a host name, without a port.
func checkHost(s string) string {
	if _, err := netip.ParseAddr(s); err == nil {
		return ""
	}
	if validHostname(s) {
		return ""
	}
	return "is not an IP address or host name (without a port)"
}

func validHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return false
			}
		}
	}
	return true
}

// redactURL hides the password of a URL's user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return "***"
		}
		return s
	}
	if u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	u.User = url.UserPassword(u.User.Username(), "***")
	return strings.Replace(u.String(), "%2A%2A%2A@", "***@", 1)
}
