package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/record"
)

// TestValidateNamesTheSettingAtFault: every limit that would make the
// gateway refuse everything (or start on an address it cannot bind) is an
// error naming its Config field; the defaults are valid.
func TestValidateNamesTheSettingAtFault(t *testing.T) {
	tests := []struct {
		mod  func(*Config)
		want string // "" for valid
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.RateLimit = 0 }, ""},
		{func(c *Config) { c.Listen = "127.0.0.1:0" }, ""},
		{func(c *Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes must be ≥ 1"},
		{func(c *Config) { c.MaxDecompressedBytes = 0 }, "MaxDecompressedBytes must be ≥ 1"},
		{func(c *Config) { c.MaxEvents = 0 }, "MaxEvents must be ≥ 1"},
		{func(c *Config) { c.MaxEventBytes = -5 }, "MaxEventBytes must be ≥ 1"},
		{func(c *Config) { c.MaxDepth = 0 }, "MaxDepth must be ≥ 1"},
		{func(c *Config) { c.MaxPendingEvents = 0 }, "MaxPendingEvents must be ≥ 1"},
		{func(c *Config) { c.MaxPast = 0 }, "MaxPast must be > 0"},
		{func(c *Config) { c.MaxFuture = -time.Second }, "MaxFuture must be ≥ 0"},
		{func(c *Config) { c.ProduceTimeout = 0 }, "ProduceTimeout must be > 0"},
		{func(c *Config) { c.RetryAfter = 0 }, "RetryAfter must be > 0"},
		{func(c *Config) { c.RawEncoding = record.EncodingJSON }, ""},
		{func(c *Config) { c.RawEncoding = record.EncodingUnknown }, "RawEncoding must be protobuf or json"},
		{func(c *Config) { c.RateLimit = -1 }, "RateLimit must be ≥ 0"},
		{func(c *Config) { c.RateBurst = 10 }, "RateBurst"},
		{func(c *Config) { c.Listen = "127.0.0.1:99999" }, `Listen "127.0.0.1:99999"`},
		{func(c *Config) { c.Listen = "8080" }, `Listen "8080" is not host:port`},
		{func(c *Config) { c.Keys = nil }, "no API keys"},
		{func(c *Config) { c.CORSOrigins = []string{"*"} }, ""},
		{func(c *Config) { c.CORSOrigins = []string{"https://game.example", "http://localhost:3000"} }, ""},
		{func(c *Config) { c.CORSOrigins = []string{"game.example"} }, "CORSOrigins"},
		{func(c *Config) { c.CORSOrigins = []string{"https://game.example/play"} }, "CORSOrigins"},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		c.Topic, c.Keys = "raw", map[string]string{"k": "g"}
		tc.mod(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
	}
}
