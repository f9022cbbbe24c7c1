package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Config configures the gateway. Zero fields take the documented defaults
// (see DefaultConfig and EnsureDefaults).
type Config struct {
	Listen string // address of the HTTP listener
	Topic  string // Kafka topic for accepted events

	// RawEncoding is the encoding of the records written to Topic: binary
	// Protobuf (the zero value, the default) or JSON (for a stream
	// processor that cannot decode Protobuf, such as Spark). Every record
	// names it in its content-type header (record.RawHeaders).
	RawEncoding record.Encoding

	// Keys maps each write key to the game it authenticates.
	Keys map[string]string

	MaxBodyBytes         int64         // compressed request body
	MaxDecompressedBytes int64         // body after gzip; a gzip bomb stops here
	MaxEvents            int           // events per batch
	MaxEventBytes        int           // one encoded event
	MaxDepth             int           // JSON nesting of one event
	MaxPast              time.Duration // oldest client_time accepted, relative to now
	MaxFuture            time.Duration // newest client_time accepted, relative to now

	RateLimit float64 // events per second per key; 0 disables
	RateBurst int     // events a key may send at once above the rate

	MaxPendingEvents int           // events accepted but not yet acknowledged by Kafka, across requests
	ProduceTimeout   time.Duration // how long a request waits for Kafka's acks before 503
	RetryAfter       time.Duration // Retry-After sent with 503

	// CORSOrigins are the browser origins (scheme://host[:port]) allowed
	// to POST events, or "*" for any; empty turns CORS off.
	CORSOrigins []string
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Listen:               ":8080",
		MaxBodyBytes:         1 << 20,  // 1 MiB
		MaxDecompressedBytes: 8 << 20,  // 8 MiB
		MaxEvents:            1000,     //
		MaxEventBytes:        32 << 10, // 32 KiB
		MaxDepth:             16,
		MaxPast:              72 * time.Hour,
		MaxFuture:            10 * time.Minute,
		RateLimit:            50000,
		RateBurst:            100000,
		MaxPendingEvents:     200000,
		ProduceTimeout:       10 * time.Second,
		RetryAfter:           time.Second,
	}
}

// EnsureDefaults fills zero fields from DefaultConfig.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Listen == "" {
		c.Listen = d.Listen
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.MaxDecompressedBytes == 0 {
		c.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if c.MaxEvents == 0 {
		c.MaxEvents = d.MaxEvents
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = d.MaxEventBytes
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = d.MaxDepth
	}
	if c.MaxPast == 0 {
		c.MaxPast = d.MaxPast
	}
	if c.MaxFuture == 0 {
		c.MaxFuture = d.MaxFuture
	}
	if c.MaxPendingEvents == 0 {
		c.MaxPendingEvents = d.MaxPendingEvents
	}
	if c.ProduceTimeout == 0 {
		c.ProduceTimeout = d.ProduceTimeout
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = d.RetryAfter
	}
}

// Validate reports the first problem with c, naming the Config field at fault
// ("gateway: MaxEvents must be ≥ 1, got 0"); a command maps the field to the
// flag that sets it. It does not apply defaults: a zero limit is an error here.
func (c *Config) Validate() error {
	if err := ValidateListen("Listen", c.Listen); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	atLeastOne := []struct {
		field string
		v     int64
	}{
		{"MaxBodyBytes", c.MaxBodyBytes},
		{"MaxDecompressedBytes", c.MaxDecompressedBytes},
		{"MaxEvents", int64(c.MaxEvents)},
		{"MaxEventBytes", int64(c.MaxEventBytes)},
		{"MaxDepth", int64(c.MaxDepth)},
		{"MaxPendingEvents", int64(c.MaxPendingEvents)},
	}
	for _, l := range atLeastOne {
		if l.v < 1 {
			return fmt.Errorf("gateway: %s must be ≥ 1, got %d", l.field, l.v)
		}
	}
	switch {
	case c.Topic == "":
		return errors.New("gateway: no topic (Topic is empty)")
	case len(c.Keys) == 0:
		return errors.New("gateway: no API keys: set Keys")
	case c.RawEncoding != record.EncodingProtobuf && c.RawEncoding != record.EncodingJSON:
		return fmt.Errorf("gateway: RawEncoding must be protobuf or json, got %s", c.RawEncoding)
	case c.MaxPast <= 0:
		return fmt.Errorf("gateway: MaxPast must be > 0, got %s", c.MaxPast)
	case c.MaxFuture < 0:
		return fmt.Errorf("gateway: MaxFuture must be ≥ 0, got %s", c.MaxFuture)
	case c.ProduceTimeout <= 0:
		return fmt.Errorf("gateway: ProduceTimeout must be > 0, got %s", c.ProduceTimeout)
	case c.RetryAfter <= 0:
		return fmt.Errorf("gateway: RetryAfter must be > 0, got %s", c.RetryAfter)
	case c.MaxDecompressedBytes < c.MaxBodyBytes:
		return fmt.Errorf("gateway: MaxDecompressedBytes (%d) is below MaxBodyBytes (%d)", c.MaxDecompressedBytes, c.MaxBodyBytes)
	case c.RateLimit < 0 || math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0):
		return fmt.Errorf("gateway: RateLimit must be ≥ 0 and finite, got %v", c.RateLimit)
	case c.RateLimit > 0 && c.RateBurst < c.MaxEvents:
		return fmt.Errorf("gateway: RateBurst (%d) must be at least MaxEvents (%d), or a full batch could never pass", c.RateBurst, c.MaxEvents)
	case c.MaxPendingEvents < c.MaxEvents:
		return fmt.Errorf("gateway: MaxPendingEvents (%d) must be at least MaxEvents (%d)", c.MaxPendingEvents, c.MaxEvents)
	}
	if err := validateOrigins(c.CORSOrigins); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	for k, g := range c.Keys {
		if k == "" || g == "" {
			return errors.New("gateway: an API key or its game id is empty")
		}
	}
	return nil
}

// ValidateListen reports whether addr is a host:port a listener can bind:
// the port a number from 0 to 65535 (0 picks a free one) or a service name.
// setting names it in the error: a Config field, or a flag for a command.
func ValidateListen(setting, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q is not host:port: %w", setting, addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%s %q: %w", setting, addr, err)
	}
	return nil
}

func (c *Config) limits() event.Limits {
	return event.Limits{MaxEvents: c.MaxEvents, MaxEventBytes: c.MaxEventBytes, MaxDepth: c.MaxDepth}
}

// ParseKeys reads `key=game_id` pairs separated by commas or newlines; blank
// lines and lines starting with # are skipped. It is the format of
// GAMEPULSE_API_KEYS and of the keys file.
func ParseKeys(r io.Reader) (map[string]string, error) {
	keys := map[string]string{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		for _, pair := range strings.Split(text, ",") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			k, g, ok := strings.Cut(pair, "=")
			k, g = strings.TrimSpace(k), strings.TrimSpace(g)
			if !ok || k == "" || g == "" {
				return nil, fmt.Errorf("api keys line %d: want key=game_id, got %q", line, redact(pair))
			}
			if _, dup := keys[k]; dup {
				return nil, fmt.Errorf("api keys line %d: key %s listed twice", line, redact(k))
			}
			keys[k] = g
		}
	}
	return keys, sc.Err()
}

// redact keeps a key out of logs and errors.
func redact(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return s[:2] + "…" + s[len(s)-2:]
}
