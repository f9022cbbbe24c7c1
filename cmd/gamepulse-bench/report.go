package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// quantile returns the p-quantile (0 < p ≤ 1) of sorted by the nearest-rank
// method: the smallest value with at least p of the values at or below it.
func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ratio returns a/b, or nil when it has no meaning (b is 0, or either is
// not a finite positive figure: a phase that measured nothing).
func ratio(a, b float64) *float64 {
	if !(a > 0) || !(b > 0) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return nil
	}
	r := a / b
	return &r
}

// per returns n/d, or 0 when d is not positive.
func per(n, d float64) float64 {
	if !(d > 0) {
		return 0
	}
	return n / d
}

// drainResult is one engine's run over the backlog.
type drainResult struct {
	Events            int     `json:"events"`
	Seconds           float64 `json:"seconds"`
	EventsPerSecond   float64 `json:"events_per_second"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	EventsPerCPUSec   float64 `json:"events_per_cpu_second"`
	PeakRSSBytes      int64   `json:"peak_rss_bytes"`
	EnrichedRecords   int64   `json:"enriched_records"`
	KPIRecords        int64   `json:"kpi_records"`
	CaughtUp          string  `json:"caught_up"` // the rule that ended the drain
	Complete          bool    `json:"complete"`  // false: the Spark engine stopped short of the Go engine's enriched events
	ProcessesMeasured string  `json:"processes"`
}

// rateResult is one engine's run at a fixed input rate.
type rateResult struct {
	Rate            float64      `json:"rate"`
	Duration        string       `json:"duration"`
	EventsSent      int64        `json:"events_sent"`
	CPUSeconds      float64      `json:"cpu_seconds"`
	EventsPerCPUSec float64      `json:"events_per_cpu_second"`
	PeakRSSBytes    int64        `json:"peak_rss_bytes"`
	Latency         latencyStats `json:"kpi_latency"`
}

// engineResult is what one engine measured.
type engineResult struct {
	Engine string       `json:"engine"`
	Drain  *drainResult `json:"drain,omitempty"`
	Rate   *rateResult  `json:"fixed_rate,omitempty"`
}

// ratios compare the engines; nil where a figure is missing.
type ratios struct {
	EventsPerCPUSecGoOverSpark *float64 `json:"events_per_cpu_second_go_over_spark"`
	EventsPerSecGoOverSpark    *float64 `json:"drain_events_per_second_go_over_spark"`
	PeakRSSSparkOverGo         *float64 `json:"peak_rss_spark_over_go"`
	P50SparkOverGo             *float64 `json:"p50_latency_spark_over_go"`
	P99SparkOverGo             *float64 `json:"p99_latency_spark_over_go"`
}

// compare computes the ratios of two engines' results.
func compare(goR, sparkR engineResult) ratios {
	var r ratios
	if goR.Drain != nil && sparkR.Drain != nil {
		r.EventsPerCPUSecGoOverSpark = ratio(goR.Drain.EventsPerCPUSec, sparkR.Drain.EventsPerCPUSec)
		r.EventsPerSecGoOverSpark = ratio(goR.Drain.EventsPerSecond, sparkR.Drain.EventsPerSecond)
		r.PeakRSSSparkOverGo = ratio(float64(sparkR.Drain.PeakRSSBytes), float64(goR.Drain.PeakRSSBytes))
	}
	if goR.Rate != nil && sparkR.Rate != nil && goR.Rate.Latency.Rows > 0 && sparkR.Rate.Latency.Rows > 0 {
		r.P50SparkOverGo = ratio(sparkR.Rate.Latency.P50ms, goR.Rate.Latency.P50ms)
		r.P99SparkOverGo = ratio(sparkR.Rate.Latency.P99ms, goR.Rate.Latency.P99ms)
	}
	return r
}

// benchReport is the JSON file --out writes.
type benchReport struct {
	Events  int            `json:"events"`
	Seed    int64          `json:"seed"`
	Engines []engineResult `json:"engines"`
	Ratios  ratios         `json:"ratios"`
}

// writeTables prints a table per engine and the ratios.
func writeTables(w io.Writer, rep benchReport) {
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	for _, e := range rep.Engines {
		fmt.Fprintf(w, "\n%s engine\n", e.Engine)
		row := func(name, value string) { fmt.Fprintf(w, "  %-40s %s\n", name, value) }
		if d := e.Drain; d != nil {
			row("backlog (events)", fmt.Sprint(d.Events))
			row("processes measured", d.ProcessesMeasured)
			row("drain wall time", fmt.Sprintf("%.1f s (%s)", d.Seconds, d.CaughtUp))
			if !d.Complete {
				row("", fmt.Sprintf("INCOMPLETE: %d enriched records", d.EnrichedRecords))
			}
			row("events/s while draining", fmt.Sprintf("%.0f", d.EventsPerSecond))
			row("CPU-seconds while draining", fmt.Sprintf("%.1f", d.CPUSeconds))
			row("events per CPU-second", fmt.Sprintf("%.0f", d.EventsPerCPUSec))
			row("peak RSS while draining", mib(d.PeakRSSBytes))
		}
		if r := e.Rate; r != nil {
			row("fixed rate", fmt.Sprintf("%.0f events/s for %s (%d sent)", r.Rate, r.Duration, r.EventsSent))
			row("CPU-seconds at the fixed rate", fmt.Sprintf("%.1f (%.0f events per CPU-second)", r.CPUSeconds, r.EventsPerCPUSec))
			row("peak RSS at the fixed rate", mib(r.PeakRSSBytes))
			l := r.Latency
			if l.Rows == 0 {
				row("KPI result latency", "no minute row measured")
			} else {
				row("KPI result latency p50 / p99 / max", fmt.Sprintf("%.0f / %.0f / %.0f ms (%d rows, %d minutes)", l.P50ms, l.P99ms, l.MaxMs, l.Rows, l.Minutes))
			}
			if l.Missing > 0 || l.Unmatched > 0 {
				row("", fmt.Sprintf("%d passed minutes without a row, %d rows of unpassed minutes", l.Missing, l.Unmatched))
			}
		}
	}
	x := func(r *float64) string {
		if r == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", *r)
	}
	fmt.Fprintf(w, "\nratios\n")
	fmt.Fprintf(w, "  %-40s %s\n", "events per CPU-second, Go / Spark", x(rep.Ratios.EventsPerCPUSecGoOverSpark))
	fmt.Fprintf(w, "  %-40s %s\n", "events/s while draining, Go / Spark", x(rep.Ratios.EventsPerSecGoOverSpark))
	fmt.Fprintf(w, "  %-40s %s\n", "peak RSS while draining, Spark / Go", x(rep.Ratios.PeakRSSSparkOverGo))
	fmt.Fprintf(w, "  %-40s %s\n", "KPI latency p50, Spark / Go", x(rep.Ratios.P50SparkOverGo))
	fmt.Fprintf(w, "  %-40s %s\n", "KPI latency p99, Spark / Go", x(rep.Ratios.P99SparkOverGo))
}

// writeJSON writes rep to path.
func writeJSON(path string, rep benchReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// parsePIDs reads a comma-separated list of process ids.
func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		pid, err := strconv.Atoi(f)
		if err != nil || pid < 1 {
			return nil, fmt.Errorf("%q is not a process id (an integer ≥ 1)", f)
		}
		out = append(out, pid)
	}
	return out, nil
}
