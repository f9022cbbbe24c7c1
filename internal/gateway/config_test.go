package gateway

import (
	"strings"
	"testing"
	"time"
)

// TestValidateNamesTheSettingAtFault: every limit that would make the
// gateway refuse everything (or start on an address it cannot bind) is an
// error naming its flag; the defaults are valid.
func TestValidateNamesTheSettingAtFault(t *testing.T) {
	tests := []struct {
		mod  func(*Config)
		want string // "" for valid
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.RateLimit = 0 }, ""},
		{func(c *Config) { c.Listen = "127.0.0.1:0" }, ""},
		{func(c *Config) { c.MaxBodyBytes = -1 }, "--max-body-bytes must be ≥ 1"},
		{func(c *Config) { c.MaxDecompressedBytes = 0 }, "--max-decompressed-bytes must be ≥ 1"},
		{func(c *Config) { c.MaxEvents = 0 }, "--max-events must be ≥ 1"},
		{func(c *Config) { c.MaxEventBytes = -5 }, "--max-event-bytes must be ≥ 1"},
		{func(c *Config) { c.MaxDepth = 0 }, "--max-depth must be ≥ 1"},
		{func(c *Config) { c.MaxPendingEvents = 0 }, "--max-pending-events must be ≥ 1"},
		{func(c *Config) { c.MaxPast = 0 }, "--max-past must be > 0"},
		{func(c *Config) { c.MaxFuture = -time.Second }, "--max-future must be ≥ 0"},
		{func(c *Config) { c.ProduceTimeout = 0 }, "--produce-timeout must be > 0"},
		{func(c *Config) { c.RetryAfter = 0 }, "--retry-after must be > 0"},
		{func(c *Config) { c.RateLimit = -1 }, "--rate-limit must be ≥ 0"},
		{func(c *Config) { c.RateBurst = 10 }, "--rate-burst"},
		{func(c *Config) { c.Listen = "127.0.0.1:99999" }, `--listen "127.0.0.1:99999"`},
		{func(c *Config) { c.Listen = "8080" }, `--listen "8080" is not host:port`},
		{func(c *Config) { c.Keys = nil }, "no API keys"},
		{func(c *Config) { c.CORSOrigins = []string{"*"} }, ""},
		{func(c *Config) { c.CORSOrigins = []string{"https://game.example", "http://localhost:3000"} }, ""},
		{func(c *Config) { c.CORSOrigins = []string{"game.example"} }, "--cors-origins"},
		{func(c *Config) { c.CORSOrigins = []string{"https://game.example/play"} }, "--cors-origins"},
	}
	for _, tc := range tests {
		c := Defaults()
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
