package sparkconnect

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultPort is Spark Connect's port when a remote names none.
const DefaultPort = 15002

// Remote is a parsed Spark Connect connection string,
// sc://HOST[:PORT][/;param=value;param=value...], as Spark's clients accept it.
type Remote struct {
	Host string
	Port int
	// UseSSL asks for TLS (param use_ssl=true; a token implies it).
	UseSSL bool
	// Token is sent as a bearer token with every call (param token).
	Token string
	// UserID names the user in every request (param user_id).
	UserID string
	// UserAgent is the client type reported to the server (param user_agent).
	UserAgent string
	// SessionID is the Spark Connect session to use (param session_id, a UUID).
	SessionID string
	// Headers are the other params, sent as gRPC metadata with every call.
	Headers map[string]string
}

// headerKey is what gRPC accepts as a metadata key (lower case; no "grpc-" prefix).
var headerKey = regexp.MustCompile(`^[a-z0-9_.-]+$`)

// hostRE accepts host names and IPv4/IPv6 addresses (with a zone).
var hostRE = regexp.MustCompile(`^[A-Za-z0-9._%:-]+$`)

// uuidRE is the textual UUID form Spark requires of session ids.
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseRemote parses a Spark Connect connection string.
func ParseRemote(s string) (Remote, error) {
	fail := func(format string, a ...any) (Remote, error) {
		return Remote{}, fmt.Errorf("sparkconnect: remote %q: %s", redact(s), fmt.Sprintf(format, a...))
	}
	rest, ok := strings.CutPrefix(s, "sc://")
	if !ok {
		return fail("want sc://HOST[:PORT][/;param=value...]")
	}
	hostport, params, _ := strings.Cut(rest, "/")
	if hostport == "" {
		return fail("no host")
	}
	r := Remote{Port: DefaultPort}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return fail("%v", err)
	}
	if !hostRE.MatchString(host) {
		return fail("host %q is not a host name or IP address", host)
	}
	r.Host = host
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return fail("port %q is not a number in 1..65535", port)
		}
		r.Port = p
	}
	if params != "" {
		if !strings.HasPrefix(params, ";") {
			return fail("the path must be empty or start with ;param=value")
		}
		for _, kv := range strings.Split(params[1:], ";") {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fail("parameter %q is not key=value", kv)
			}
			if v, err = url.PathUnescape(v); err != nil {
				return fail("parameter %q: %v", k, err)
			}
			switch k {
			case "use_ssl":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fail("use_ssl=%q is not true or false", v)
				}
				r.UseSSL = b
			case "token":
				r.Token = v
			case "user_id":
				r.UserID = v
			case "user_agent":
				r.UserAgent = v
			case "session_id":
				if !uuidRE.MatchString(v) {
					return fail("session_id %q is not a UUID", v)
				}
				r.SessionID = v
			default:
				k = strings.ToLower(k)
				if !headerKey.MatchString(k) || strings.HasPrefix(k, "grpc-") {
					return fail("parameter %q cannot be sent as a gRPC header", k)
				}
				if r.Headers == nil {
					r.Headers = map[string]string{}
				}
				r.Headers[k] = v
			}
		}
	}
	if r.Token != "" {
		// Spark's clients send a token only over TLS.
		r.UseSSL = true
	}
	return r, nil
}

// splitHostPort accepts host, host:port, [v6] and [v6]:port.
func splitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		if strings.HasSuffix(s, "]") {
			return s[1 : len(s)-1], "", nil
		}
		return net.SplitHostPort(s)
	}
	if strings.Count(s, ":") > 1 {
		return "", "", errors.New("an IPv6 host must be in brackets")
	}
	if h, p, ok := strings.Cut(s, ":"); ok {
		if h == "" {
			return "", "", errors.New("no host")
		}
		return h, p, nil
	}
	return s, "", nil
}

// Addr is the gRPC target, HOST:PORT.
func (r Remote) Addr() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// String is the connection string with the token replaced by "***".
func (r Remote) String() string {
	var b strings.Builder
	b.WriteString("sc://")
	b.WriteString(r.Addr())
	add := func(k, v string) { fmt.Fprintf(&b, ";%s=%s", k, url.PathEscape(v)) }
	if r.UseSSL || r.Token != "" || r.UserID != "" || r.UserAgent != "" || r.SessionID != "" || len(r.Headers) > 0 {
		b.WriteString("/")
	}
	if r.UseSSL {
		add("use_ssl", "true")
	}
	if r.Token != "" {
		b.WriteString(";token=***")
	}
	if r.UserID != "" {
		add("user_id", r.UserID)
	}
	if r.UserAgent != "" {
		add("user_agent", r.UserAgent)
	}
	if r.SessionID != "" {
		add("session_id", r.SessionID)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
		add(k, r.Headers[k])
	}
	return b.String()
}

// redact hides a token in an unparsed connection string (for error messages).
func redact(s string) string {
	i := strings.Index(s, ";token=")
	if i < 0 {
		return s
	}
	j := strings.IndexByte(s[i+1:], ';')
	if j < 0 {
		return s[:i] + ";token=***"
	}
	return s[:i] + ";token=***" + s[i+1+j:]
}
