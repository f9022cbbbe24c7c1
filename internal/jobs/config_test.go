package jobs

import (
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	var c Config
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.DedupHorizon != 24*time.Hour || c.SessionGap != 30*time.Minute || c.AllowedLateness != 2*time.Minute || c.FraudMaxPurchases != 5 || c.MaxFuture != 10*time.Minute || c.Rates == nil {
		t.Errorf("defaults: %+v", c)
	}
	for name, mut := range map[string]func(*Config){
		"negative horizon":    func(c *Config) { c.DedupHorizon = -time.Hour },
		"sub-ms gap":          func(c *Config) { c.SessionGap = time.Microsecond },
		"negative lateness":   func(c *Config) { c.AllowedLateness = -1 },
		"negative threshold":  func(c *Config) { c.FraudMaxPurchases = -1 },
		"negative max future": func(c *Config) { c.MaxFuture = -time.Minute },
		"no rates":            func(c *Config) { c.Rates = nil },
	} {
		c := Config{}
		c.EnsureDefaults()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := NewStage(c); name != "no rates" && err == nil {
			t.Errorf("%s: NewStage: no error", name)
		}
	}
}
