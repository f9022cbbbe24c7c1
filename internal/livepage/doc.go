// Package livepage owns the live page that gamepulse serves on its admin
// address, for people without Grafana: per-stage throughput, consumer lag,
// freshness and watermark delay, the games' live KPIs (active players,
// revenue per minute, the levels with the highest fail rates), and the
// alerts firing now, with charts of the last five minutes, updated every
// second over server-sent events.
//
// # Where the numbers come from
//
// The page reads the process's own Prometheus registry (a
// prometheus.Gatherer), nothing else: every second Run gathers it, keeps the
// families the page shows (the m* constants in sample.go) and turns them
// into a Snapshot. Counters become rates over the last window (5 s by
// default: the newest sample against the latest one at least that old), the
// loader's freshness histogram becomes p50 and p99 of the observations in
// that window (interpolated inside buckets as histogram_quantile does), the
// watermark gauge becomes "now − watermark", lag gauges are summed. A
// family that is absent is shown as "—": a command runs only some stages,
// and some series are added by other work. A stage is present when its
// always-registered series is (gateway: in-flight requests; processor:
// consumed records; loader: batches); inside a present stage an absent
// counter family is 0, because a CounterVec has no series before its first
// use. Counter resets count from 0, as in PromQL.
//
// # Built-in alerts
//
// A few conditions on the snapshots, each of which must hold for a while
// before it fires (Prometheus's "for"), so that a blip does not show. They
// mirror the rules in deploy/prometheus/rules with windows of seconds rather
// than minutes: the page is for watching a demo or an incident live, and
// Prometheus remains the thing that pages.
//
//	GamepulseIngestErrors (page, gateway, 10 s): more than 5 % of ingest
//	    requests get a 5xx answer (Kafka unavailable: the gateway's 503).
//	GamepulseFreshnessSLO (page, loader, 10 s): freshness p99 over the
//	    window above FreshnessSLOSeconds (2 s, the SLO's threshold).
//	GamepulsePipelineStalled (page, processor|loader, 15 s): the gateway
//	    accepts events and the stage's output rate is 0.
//	GamepulseConsumerLagGrowing (page, processor|loader, 30 s): the stage's
//	    lag is at least LagFloorRecords (10 000) and higher than
//	    LagGrowthWindow (30 s) ago.
//	GamepulseDeadLetterRatioHigh (ticket, processor, 30 s): more than 1 % of
//	    the records judged (accepted + dead-lettered + duplicates) go to the
//	    dead-letter topic, at DeadLetterFloorPerSec or more.
//
// WithAlerts adds alerts computed elsewhere; they show as they are returned.
//
// # Goroutines
//
// A Page starts none by itself. Its owner runs Run(ctx) in its goroutine
// group (one sampler: a Gather a second, which costs about as much as one
// Prometheus scrape); Run returns when ctx ends, and the event streams end
// with it. Each /events request is served on its handler's goroutine only:
// it waits for the next snapshot and returns when the request's context
// ends, when Run returns, or when a write blocks for 10 s. Snapshots are
// encoded once per tick, whatever the number of viewers.
//
// # The page
//
// static/ holds the page (HTML, CSS, one script, no library and nothing
// fetched from elsewhere), embedded in the binary. Its links are relative,
// so it can be mounted under a prefix with http.StripPrefix. The charts are
// drawn on <canvas>; each canvas carries data-points and data-max of what it
// drew, and window.livepage holds the page's state, which the browser test
// (browser_test.go, build tag browser) reads.
package livepage
