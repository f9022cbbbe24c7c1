package pipeline_test

import (
	"strings"
	"testing"

	"github.com/gamepulse/gamepulse/internal/pipeline"
)

func TestDefaultConfigIsValidWithAnInstanceID(t *testing.T) {
	c := pipeline.DefaultConfig()
	c.InstanceID = "a"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var zero pipeline.Config
	zero.EnsureDefaults()
	if zero.AppID != c.AppID || zero.Delivery != c.Delivery || zero.MaxPollRecords != c.MaxPollRecords ||
		zero.TxnTimeout != c.TxnTimeout || zero.Jobs.DedupHorizon != c.Jobs.DedupHorizon || zero.Watermark != c.Watermark {
		t.Errorf("EnsureDefaults %+v disagrees with DefaultConfig %+v", zero, c)
	}
}

// Errors name the configuration field, not a command-line flag: the command
// maps fields to its flags.
func TestValidateNamesTheField(t *testing.T) {
	for field, mut := range map[string]func(*pipeline.Config){
		"InstanceID":                     func(c *pipeline.Config) { c.InstanceID = "" },
		"Topics.Raw":                     func(c *pipeline.Config) { c.Topics.Raw = "" },
		"PartialsTopic":                  func(c *pipeline.Config) { c.PartialsTopic = "" },
		"Delivery":                       func(c *pipeline.Config) { c.Delivery = "twice" },
		"MaxPollRecords":                 func(c *pipeline.Config) { c.MaxPollRecords = -1 },
		"Jobs: jobs: invalid config":     func(c *pipeline.Config) { c.Jobs.SessionGap = -1 },
		"Watermark.AllowedLateness":      func(c *pipeline.Config) { c.Watermark.AllowedLateness = 3 * c.Jobs.AllowedLateness },
		"Watermark: engine: IdleTimeout": func(c *pipeline.Config) { c.Watermark.IdleTimeout = -1 },
	} {
		c := pipeline.DefaultConfig()
		c.InstanceID = "a"
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
}
