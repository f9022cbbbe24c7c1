package livepage

import (
	"fmt"
	"sort"
	"time"
)

// A Condition is an operational alert that holds now, shown on the page (not
// a record of the alerts topic, which is record.Alert).
type Condition struct {
	Name     string    `json:"name"`
	Severity string    `json:"severity"`        // "page" or "ticket", as in deploy/prometheus/rules
	Stage    string    `json:"stage,omitempty"` // gateway, processor, loader; empty for none
	Message  string    `json:"message"`
	Since    time.Time `json:"since,omitzero"` // when the condition began to hold
}

// An AlertFunc adds alerts that are computed elsewhere (a reconcile result, a
// fault switch of the demo) to each snapshot. It runs on the sampler's
// goroutine once a tick, so it must return quickly; an alert it returns
// with a zero Since gets the time it was first returned (without a break).
type AlertFunc func(Snapshot) []Condition

// The built-in rules' thresholds (doc.go explains the rules).
const (
	FreshnessSLOSeconds   = 2.0    // loader freshness p99 above it: GamepulseFreshnessSLO
	LagFloorRecords       = 10_000 // a lag under it is never "growing": one batch's worth
	LagGrowthWindow       = 30 * time.Second
	DeadLetterFractionMax = 0.01
	DeadLetterFloorPerSec = 1.0  // fewer dead letters a second never alert: small numbers
	IngestErrorFraction   = 0.05 // 5xx answers above it: GamepulseIngestErrors
)

// A rule is a built-in alert: a condition on the snapshot (and the history
// before it) that must hold for hold before the alert fires.
type rule struct {
	name, severity, stage string
	hold                  time.Duration
	// check reports the alert's message and whether the condition holds; ago
	// returns the latest snapshot at least d older than s (nil: none).
	check func(s *Snapshot, ago func(d time.Duration) *Snapshot) (string, bool)
}

func builtinRules() []rule {
	lagGrowing := func(stage string, lag func(*Snapshot) *float64) func(*Snapshot, func(time.Duration) *Snapshot) (string, bool) {
		return func(s *Snapshot, ago func(time.Duration) *Snapshot) (string, bool) {
			now := lag(s)
			if now == nil || *now < LagFloorRecords {
				return "", false
			}
			p := ago(LagGrowthWindow)
			if p == nil || lag(p) == nil || *now <= *lag(p) {
				return "", false
			}
			return fmt.Sprintf("%s consumers are %.0f records behind, %.0f more than %s ago", stage, *now, *now-*lag(p), LagGrowthWindow), true
		}
	}
	stalled := func(stage string, present func(*Snapshot) bool, rate func(*Snapshot) *float64) func(*Snapshot, func(time.Duration) *Snapshot) (string, bool) {
		return func(s *Snapshot, _ func(time.Duration) *Snapshot) (string, bool) {
			acc, r := s.Gateway.AcceptedPerSecond, rate(s)
			if !present(s) || acc == nil || *acc <= 0 || r == nil || *r > 0 {
				return "", false
			}
			return fmt.Sprintf("%s output is 0 while the gateway accepts %.1f events/s", stage, *acc), true
		}
	}
	return []rule{
		{name: "GamepulseIngestErrors", severity: "page", stage: "gateway", hold: 10 * time.Second,
			check: func(s *Snapshot, _ func(time.Duration) *Snapshot) (string, bool) {
				f := s.Gateway.ServerErrorFraction
				if f == nil || *f <= IngestErrorFraction {
					return "", false
				}
				return fmt.Sprintf("%.0f%% of ingest requests get a 5xx answer (Kafka unavailable?)", *f*100), true
			}},
		{name: "GamepulseFreshnessSLO", severity: "page", stage: "loader", hold: 10 * time.Second,
			check: func(s *Snapshot, _ func(time.Duration) *Snapshot) (string, bool) {
				p99 := s.Loader.FreshnessP99Seconds
				if p99 == nil || *p99 <= FreshnessSLOSeconds {
					return "", false
				}
				return fmt.Sprintf("freshness p99 is %.2f s over the last %.0f s (SLO: %g s)", *p99, s.WindowSeconds, FreshnessSLOSeconds), true
			}},
		{name: "GamepulsePipelineStalled", severity: "page", stage: "processor", hold: 15 * time.Second,
			check: stalled("processor", func(s *Snapshot) bool { return s.Processor.Present },
				func(s *Snapshot) *float64 { return s.Processor.ConsumedPerSecond })},
		{name: "GamepulsePipelineStalled", severity: "page", stage: "loader", hold: 15 * time.Second,
			check: stalled("loader", func(s *Snapshot) bool { return s.Loader.Present },
				func(s *Snapshot) *float64 { return s.Loader.RowsPerSecond })},
		{name: "GamepulseConsumerLagGrowing", severity: "page", stage: "processor", hold: 30 * time.Second,
			check: lagGrowing("processor", func(s *Snapshot) *float64 { return s.Processor.LagRecords })},
		{name: "GamepulseConsumerLagGrowing", severity: "page", stage: "loader", hold: 30 * time.Second,
			check: lagGrowing("loader", func(s *Snapshot) *float64 { return s.Loader.LagRecords })},
		{name: "GamepulseDeadLetterRatioHigh", severity: "ticket", stage: "processor", hold: 30 * time.Second,
			check: func(s *Snapshot, _ func(time.Duration) *Snapshot) (string, bool) {
				f, r := s.Processor.DeadLetterFraction, s.Processor.DeadLettersPerSecond
				if f == nil || r == nil || *f <= DeadLetterFractionMax || *r < DeadLetterFloorPerSec {
					return "", false
				}
				return fmt.Sprintf("%.1f%% of records go to the dead-letter topic (%.1f/s)", *f*100, *r), true
			}},
	}
}

// An alerter evaluates the rules tick after tick, remembering since when each
// condition has held. Only the sampler's goroutine uses it.
type alerter struct {
	rules []rule
	extra []AlertFunc
	since map[string]time.Time // by alert key: when its condition began to hold
}

func newAlerter(extra []AlertFunc) *alerter {
	return &alerter{rules: builtinRules(), extra: extra, since: map[string]time.Time{}}
}

func alertKey(name, stage string) string { return name + "\x00" + stage }

// eval returns the alerts firing at s, pages first.
func (a *alerter) eval(s *Snapshot, ago func(time.Duration) *Snapshot) []Condition {
	out := []Condition{}
	seen := map[string]bool{}
	for _, r := range a.rules {
		msg, ok := r.check(s, ago)
		if !ok {
			continue
		}
		k := alertKey(r.name, r.stage)
		seen[k] = true
		since, held := a.since[k]
		if !held {
			since = s.Time
			a.since[k] = since
		}
		if s.Time.Sub(since) >= r.hold {
			out = append(out, Condition{Name: r.name, Severity: r.severity, Stage: r.stage, Message: msg, Since: since})
		}
	}
	for _, f := range a.extra {
		for _, al := range f(*s) {
			k := alertKey("extra:"+al.Name, al.Stage)
			seen[k] = true
			if al.Since.IsZero() {
				since, held := a.since[k]
				if !held {
					since = s.Time
					a.since[k] = since
				}
				al.Since = since
			}
			out = append(out, al)
		}
	}
	for k := range a.since {
		if !seen[k] {
			delete(a.since, k)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if (x.Severity == "page") != (y.Severity == "page") {
			return x.Severity == "page"
		}
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.Stage < y.Stage
	})
	return out
}
