package loader

import (
	"strings"
	"testing"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

// TestValidateNamesTheFieldAtFault: a setting New cannot run with is an
// error naming its Config field; the defaults are valid.
func TestValidateNamesTheFieldAtFault(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string // "" for valid
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.BatchRows = -1 }, "BatchRows must be ≥ 1"},
		{func(c *Config) { c.BatchBytes = -1 }, "BatchBytes must be ≥ 1"},
		{func(c *Config) { c.BatchInterval = -1 }, "BatchInterval must be ≥ 0"},
		{func(c *Config) { c.SessionTimeout = -1 }, "SessionTimeout must be ≥ 0"},
		{func(c *Config) { c.AutoSuspend = -1 }, "AutoSuspend must be ≥ 0"},
		{func(c *Config) { c.Topics.KPI = "" }, "Topics"},
	} {
		c := DefaultConfig()
		c.Topics = kafka.DefaultTopicConfig()
		tc.mod(&c)
		c.EnsureDefaults()
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("unexpected error %v", err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "loader: "+tc.want)):
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
		if _, nerr := New(c, nil, nil, nil, nil); nerr == nil {
			t.Errorf("New without a sink: want an error")
		}
	}
}
