package jobs

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config.
const (
	DefaultDedupHorizon      = 24 * time.Hour
	DefaultSessionGap        = 30 * time.Minute
	DefaultAllowedLateness   = 2 * time.Minute
	DefaultFraudMaxPurchases = 5
	DefaultMaxFuture         = 10 * time.Minute
)

// Config configures a Stage. Call EnsureDefaults, then Validate (NewStage
// does both).
type Config struct {
	// DedupHorizon is how much event time, back from the partition's max
	// event time, the stage remembers: event ids and store transaction ids
	// (dedup), per-session seq state (ledger) and per-player purchase
	// counts (fraud rule). Default 24h; a whole number of milliseconds.
	DedupHorizon time.Duration
	// SessionGap is the inactivity, in event time, that closes a session.
	// Default 30m.
	SessionGap time.Duration
	// AllowedLateness is subtracted from the partition's max event time to
	// give the watermark at which the stage closes idle sessions after each
	// event. Default 2m, the engine's default.
	AllowedLateness time.Duration
	// FraudMaxPurchases is N of the per-player fraud rule: more than N
	// purchases by one player in one minute window raise an alert.
	// Default 5.
	FraudMaxPurchases int
	// MaxFuture is how far an event's client_time may lie after its
	// received_at: a later one is dead-lettered (clock_skew). Default 10m,
	// the gateway's default for the same check against its clock.
	MaxFuture time.Duration
	// Rates is the FX table; nil means DefaultRates().
	Rates *Rates
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.DedupHorizon == 0 {
		c.DedupHorizon = DefaultDedupHorizon
	}
	if c.SessionGap == 0 {
		c.SessionGap = DefaultSessionGap
	}
	if c.AllowedLateness == 0 {
		c.AllowedLateness = DefaultAllowedLateness
	}
	if c.FraudMaxPurchases == 0 {
		c.FraudMaxPurchases = DefaultFraudMaxPurchases
	}
	if c.MaxFuture == 0 {
		c.MaxFuture = DefaultMaxFuture
	}
	if c.Rates == nil {
		c.Rates = DefaultRates()
	}
}

// Validate reports every invalid field, by name.
func (c *Config) Validate() error {
	var errs []error
	ms := func(name string, d time.Duration) {
		if d <= 0 || d%time.Millisecond != 0 {
			errs = append(errs, fmt.Errorf("%s %s: must be a positive whole number of milliseconds", name, d))
		}
	}
	ms("DedupHorizon", c.DedupHorizon)
	ms("SessionGap", c.SessionGap)
	ms("AllowedLateness", c.AllowedLateness)
	if c.FraudMaxPurchases < 1 {
		errs = append(errs, fmt.Errorf("FraudMaxPurchases %d: must be at least 1", c.FraudMaxPurchases))
	}
	if c.MaxFuture <= 0 {
		errs = append(errs, fmt.Errorf("MaxFuture %s: must be positive", c.MaxFuture))
	}
	if c.Rates == nil {
		errs = append(errs, errors.New("Rates: no FX rates"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("jobs: invalid config: %w", err)
	}
	return nil
}
