package livepage

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The series the page reads. Several are registered only by some commands
// (a gateway alone has no loader metrics) or only once something happened
// (a CounterVec has no series before its first label value): an absent
// family shows as "—" on the page, never as an error.
const (
	// gateway (internal/gateway/metrics.go)
	mGatewayInFlight = "gamepulse_gateway_in_flight_requests" // always there: marks a gateway
	mGatewayAccepted = "gamepulse_gateway_events_accepted_total"
	mGatewayRejected = "gamepulse_gateway_events_rejected_total"
	mGatewayRequests = "gamepulse_gateway_requests_total"

	// processor (internal/engine/metrics.go, internal/pipeline/metrics.go)
	mProcConsumed    = "gamepulse_processor_consumed_records_total" // always there: marks a processor
	mProcAccepted    = "gamepulse_processor_events_accepted_total"
	mProcDeadLetters = "gamepulse_processor_dead_letters_total"
	mProcDuplicates  = "gamepulse_processor_duplicates_dropped_total"
	mProcLate        = "gamepulse_processor_late_events_total"
	mProcWatermark   = "gamepulse_processor_watermark_seconds"
	mProcLag         = "gamepulse_processor_consumer_lag_records"

	// loader (internal/loader/metrics.go)
	mLoaderBatches   = "gamepulse_loader_batches_total" // always there: marks a loader
	mLoaderRows      = "gamepulse_loader_rows_total"
	mLoaderFreshness = "gamepulse_loader_freshness_seconds"
	mLoaderLag       = "gamepulse_loader_consumer_lag_records"

	// business gauges
	mActivePlayers = "gamepulse_business_active_players"
	mRevenue       = "gamepulse_business_revenue_usd_per_minute"
	mLevelStarts   = "gamepulse_business_level_starts_per_minute"
	mLevelFails    = "gamepulse_business_level_fails_per_minute"
)

// wanted is the set of families a sample keeps; the rest of a Gather is dropped.
var wanted = map[string]bool{
	mGatewayInFlight: true, mGatewayAccepted: true, mGatewayRejected: true, mGatewayRequests: true,
	mProcConsumed: true, mProcAccepted: true, mProcDeadLetters: true, mProcDuplicates: true, mProcLate: true,
	mProcWatermark: true, mProcLag: true,
	mLoaderBatches: true, mLoaderRows: true, mLoaderFreshness: true, mLoaderLag: true,
	mActivePlayers: true, mRevenue: true, mLevelStarts: true, mLevelFails: true,
}

// A sample is one Gather, reduced to the families the page reads.
type sample struct {
	at       time.Time
	families map[string][]series // by metric name; a key is present when the family was gathered
}

// A series is one labelled series of a family.
type series struct {
	key     string // the label pairs, canonical: identifies the series across samples
	labels  map[string]string
	value   float64  // counter, gauge or untyped value; a histogram's sample count
	buckets []bucket // histograms: cumulative, ascending, +Inf last
}

type bucket struct {
	le    float64 // upper bound
	count float64 // cumulative count
}

// gather reads g at time at. Gather may fail for some collectors and still
// return the rest: the sample then holds what was gathered, and the error is
// returned beside it.
func gather(g prometheus.Gatherer, at time.Time) (sample, error) {
	mfs, err := g.Gather()
	return fromFamilies(mfs, at), err
}

func fromFamilies(mfs []*dto.MetricFamily, at time.Time) sample {
	s := sample{at: at, families: map[string][]series{}}
	for _, mf := range mfs {
		name := mf.GetName()
		if !wanted[name] {
			continue
		}
		out := make([]series, 0, len(mf.GetMetric()))
		for _, m := range mf.GetMetric() {
			sr := series{labels: make(map[string]string, len(m.GetLabel()))}
			var key strings.Builder
			for _, lp := range m.GetLabel() { // sorted by name in a Gather's output
				sr.labels[lp.GetName()] = lp.GetValue()
				key.WriteString(lp.GetName())
				key.WriteByte('=')
				key.WriteString(lp.GetValue())
				key.WriteByte(0xff)
			}
			sr.key = key.String()
			switch {
			case m.Counter != nil:
				sr.value = m.Counter.GetValue()
			case m.Gauge != nil:
				sr.value = m.Gauge.GetValue()
			case m.Untyped != nil:
				sr.value = m.Untyped.GetValue()
			case m.Histogram != nil:
				h := m.Histogram
				sr.value = float64(h.GetSampleCount())
				for _, b := range h.GetBucket() {
					if math.IsInf(b.GetUpperBound(), +1) {
						continue
					}
					sr.buckets = append(sr.buckets, bucket{le: b.GetUpperBound(), count: float64(b.GetCumulativeCount())})
				}
				sr.buckets = append(sr.buckets, bucket{le: math.Inf(+1), count: sr.value})
			default:
				continue // summaries: the page reads none
			}
			out = append(out, sr)
		}
		s.families[name] = out
	}
	return s
}

func (s *sample) has(name string) bool {
	_, ok := s.families[name]
	return ok
}

// sum adds the values of the family's series that match (nil: all); false
// when the family is absent.
func (s *sample) sum(name string, match func(map[string]string) bool) (float64, bool) {
	ss, ok := s.families[name]
	if !ok {
		return 0, false
	}
	var v float64
	for _, sr := range ss {
		if match == nil || match(sr.labels) {
			v += sr.value
		}
	}
	return v, true
}

// increase is how much the family's counters that match (nil: all) grew from
// old to cur, false when cur has no such family. A series that old lacks
// started at 0 in between (client_golang creates a labelled series at its
// first use); a series whose value fell was reset (a restarted exporter) and
// counts from 0, as Prometheus' increase() does.
func increase(old, cur *sample, name string, match func(map[string]string) bool) (float64, bool) {
	ss, ok := cur.families[name]
	if !ok {
		return 0, false
	}
	prev := map[string]float64{}
	for _, sr := range old.families[name] {
		prev[sr.key] = sr.value
	}
	var d float64
	for _, sr := range ss {
		if match != nil && !match(sr.labels) {
			continue
		}
		if p := prev[sr.key]; sr.value >= p {
			d += sr.value - p
		} else {
			d += sr.value
		}
	}
	return d, true
}

// histIncrease is the family's histogram buckets observed from old to cur,
// summed over its series (which share their bounds), cumulative with +Inf
// last; nil when cur has no such family or no series.
func histIncrease(old, cur *sample, name string) []bucket {
	ss := cur.families[name]
	if len(ss) == 0 {
		return nil
	}
	prev := map[string][]bucket{}
	for _, sr := range old.families[name] {
		prev[sr.key] = sr.buckets
	}
	var out []bucket
	for _, sr := range ss {
		p := prev[sr.key]
		if len(p) != len(sr.buckets) || p[len(p)-1].count > sr.value {
			p = nil // new series, changed bounds, or a reset: count from 0
		}
		if out == nil {
			out = make([]bucket, len(sr.buckets))
			for i, b := range sr.buckets {
				out[i].le = b.le
			}
		} else if len(out) != len(sr.buckets) {
			continue // bounds differ between series: keep the first's
		}
		for i, b := range sr.buckets {
			c := b.count
			if p != nil {
				c -= p[i].count
			}
			out[i].count += c
		}
	}
	return out
}

// quantile estimates the q-quantile (0 ≤ q ≤ 1) of the observations counted
// in cumulative buckets b (+Inf last), interpolating linearly inside the
// bucket that holds it, as PromQL's histogram_quantile does. An estimate in
// the +Inf bucket is the highest finite bound. False when b counts nothing.
func quantile(q float64, b []bucket) (float64, bool) {
	if len(b) == 0 || math.IsNaN(q) || q < 0 || q > 1 {
		return 0, false
	}
	total := b[len(b)-1].count
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	i := sort.Search(len(b), func(i int) bool { return b[i].count >= rank })
	if i >= len(b)-1 && math.IsInf(b[len(b)-1].le, +1) {
		if len(b) < 2 {
			return 0, false
		}
		return b[len(b)-2].le, true
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = b[i-1].le, b[i-1].count
	} else if b[0].le <= 0 {
		return b[0].le, true
	}
	in := b[i].count - below
	if in <= 0 {
		return b[i].le, true
	}
	return lower + (b[i].le-lower)*(rank-below)/in, true
}
