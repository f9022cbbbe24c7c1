package livepage

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

// everySecond builds one snapshot a second for n seconds from t0, each set up by f.
func everySecond(n int, f func(i int, s *Snapshot)) []Snapshot {
	out := make([]Snapshot, n)
	for i := range out {
		out[i] = Snapshot{Time: t0.Add(time.Duration(i) * time.Second), WindowSeconds: 5}
		f(i, &out[i])
	}
	return out
}

// evalAll runs the alerter over snaps in order and returns the alerts of
// each tick, as "Name/stage@sinceSecond".
func evalAll(a *alerter, snaps []Snapshot) [][]string {
	var out [][]string
	for i := range snaps {
		ago := func(d time.Duration) *Snapshot {
			for j := i - 1; j >= 0; j-- {
				if !snaps[j].Time.After(snaps[i].Time.Add(-d)) {
					return &snaps[j]
				}
			}
			return nil
		}
		var names []string
		for _, al := range a.eval(&snaps[i], ago) {
			names = append(names, al.Name+"/"+al.Stage+"@"+strconv.Itoa(int(al.Since.Sub(t0)/time.Second)))
		}
		out = append(out, names)
	}
	return out
}

func TestBuiltinAlerts(t *testing.T) {
	healthy := func(s *Snapshot) {
		s.Gateway = GatewayStats{Present: true, AcceptedPerSecond: ptr(500)}
		s.Processor = ProcessorStats{Present: true, ConsumedPerSecond: ptr(510), DeadLettersPerSecond: ptr(0.5),
			DeadLetterFraction: ptr(0.001), LagRecords: ptr(300)}
		s.Loader = LoaderStats{Present: true, RowsPerSecond: ptr(550), LagRecords: ptr(400),
			FreshnessP50Seconds: ptr(0.4), FreshnessP99Seconds: ptr(1.2)}
	}
	for _, tc := range []struct {
		name string
		n    int
		f    func(i int, s *Snapshot)
		// want: the alerts at each listed second (absent seconds: not checked)
		want map[int]string
	}{
		{"healthy", 120, func(i int, s *Snapshot) { healthy(s) },
			map[int]string{0: "", 60: "", 119: ""}},
		{"freshness fires after 10 s", 15, func(i int, s *Snapshot) {
			healthy(s)
			s.Loader.FreshnessP99Seconds = ptr(3)
		}, map[int]string{0: "", 9: "", 10: "GamepulseFreshnessSLO/loader@0", 14: "GamepulseFreshnessSLO/loader@0"}},
		{"a freshness blip restarts the hold", 20, func(i int, s *Snapshot) {
			healthy(s)
			if i != 6 {
				s.Loader.FreshnessP99Seconds = ptr(3)
			}
		}, map[int]string{10: "", 16: "", 17: "GamepulseFreshnessSLO/loader@7"}},
		{"freshness unknown never fires", 30, func(i int, s *Snapshot) {
			healthy(s)
			s.Loader.FreshnessP99Seconds = nil
		}, map[int]string{29: ""}},
		{"processor stalled", 20, func(i int, s *Snapshot) {
			healthy(s)
			s.Processor.ConsumedPerSecond = ptr(0)
			s.Loader = LoaderStats{} // not in this process: no loader alert
		}, map[int]string{14: "", 15: "GamepulsePipelineStalled/processor@0"}},
		{"no input, no stall", 30, func(i int, s *Snapshot) {
			healthy(s)
			s.Gateway.AcceptedPerSecond = ptr(0)
			s.Processor.ConsumedPerSecond = ptr(0)
			s.Loader.RowsPerSecond = ptr(0)
		}, map[int]string{29: ""}},
		{"no gateway here, no stall", 30, func(i int, s *Snapshot) {
			healthy(s)
			s.Gateway = GatewayStats{}
			s.Loader.RowsPerSecond = ptr(0)
		}, map[int]string{29: ""}},
		{"loader lag growing", 70, func(i int, s *Snapshot) {
			healthy(s)
			s.Loader.LagRecords = ptr(float64(5000 + 1000*i))
		}, // ≥ 10 000 from second 5; compared with 30 s ago from second 30; held 30 s
			map[int]string{29: "", 59: "", 60: "GamepulseConsumerLagGrowing/loader@30"}},
		{"large but flat lag", 90, func(i int, s *Snapshot) {
			healthy(s)
			s.Processor.LagRecords = ptr(50_000)
		}, map[int]string{89: ""}},
		{"dead letters", 40, func(i int, s *Snapshot) {
			healthy(s)
			s.Processor.DeadLetterFraction = ptr(0.02)
			s.Processor.DeadLettersPerSecond = ptr(10)
		}, map[int]string{29: "", 30: "GamepulseDeadLetterRatioHigh/processor@0"}},
		{"few dead letters: under the floor", 40, func(i int, s *Snapshot) {
			healthy(s)
			s.Processor.DeadLetterFraction = ptr(0.05)
			s.Processor.DeadLettersPerSecond = ptr(0.5)
		}, map[int]string{39: ""}},
		{"ingest errors: Kafka out", 15, func(i int, s *Snapshot) {
			healthy(s)
			s.Gateway.AcceptedPerSecond = ptr(0)
			s.Gateway.ServerErrorFraction = ptr(1)
		}, map[int]string{9: "", 10: "GamepulseIngestErrors/gateway@0"}},
		{"a few 5xx answers: under the threshold", 30, func(i int, s *Snapshot) {
			healthy(s)
			s.Gateway.ServerErrorFraction = ptr(0.01)
		}, map[int]string{29: ""}},
		{"pages before tickets", 40, func(i int, s *Snapshot) {
			healthy(s)
			s.Processor.DeadLetterFraction = ptr(0.02)
			s.Processor.DeadLettersPerSecond = ptr(10)
			s.Loader.FreshnessP99Seconds = ptr(5)
		}, map[int]string{35: "GamepulseFreshnessSLO/loader@0 GamepulseDeadLetterRatioHigh/processor@0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := evalAll(newAlerter(nil), everySecond(tc.n, tc.f))
			for sec, want := range tc.want {
				if g := strings.Join(got[sec], " "); g != want {
					t.Errorf("second %d: %q, want %q", sec, g, want)
				}
			}
		})
	}
}

func TestExtraAlerts(t *testing.T) {
	extra := func(s Snapshot) []Condition {
		sec := int(s.Time.Sub(t0) / time.Second)
		var out []Condition
		if sec >= 3 && sec < 6 || sec >= 8 {
			out = append(out, Condition{Name: "KafkaOutage", Severity: "page", Message: "fault switch"})
		}
		if sec >= 1 {
			out = append(out, Condition{Name: "ReconcileDrift", Severity: "ticket", Message: "x", Since: t0.Add(-time.Hour)})
		}
		return out
	}
	got := evalAll(newAlerter([]AlertFunc{extra}), everySecond(10, func(int, *Snapshot) {}))
	want := map[int]string{
		0: "",
		1: "ReconcileDrift/@-3600",
		4: "KafkaOutage/@3 ReconcileDrift/@-3600",
		6: "ReconcileDrift/@-3600",
		9: "KafkaOutage/@8 ReconcileDrift/@-3600",
	}
	for sec, w := range want {
		if g := strings.Join(got[sec], " "); g != w {
			t.Errorf("second %d: %q, want %q", sec, g, w)
		}
	}
}
