package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// GameKPIs is the live business view per game: players, revenue, sessions,
// the level funnel, and how complete the data behind them is. The business
// gauges hold the latest final minute computed by the processor's stage 2;
// the warehouse (gamepulse kpis) has the full history.
func GameKPIs() (dashboard.Dashboard, error) {
	b := newDashboard("gamepulse-game-kpis", "gamepulse / Game KPIs",
		"Live active players, revenue and sessions per game, the level funnel, and completeness (lost, duplicate and out-of-order events). Values are those of the latest final minute.").
		WithVariable(gameVariable())

	b.WithRow(dashboard.NewRowBuilder("Live: the latest final minute")).
		WithPanel(singleStat("Active players", units.Short,
			"Distinct players active in the latest final minute, summed over the selected games.",
			q(`sum(max by (game) (gamepulse_business_active_players{game=~"$game"}))`, ""))).
		WithPanel(singleStat("Revenue per minute", units.Dollars,
			"Net revenue (purchases + ads − refunds) of the latest final minute, summed over the selected games.",
			q(`sum(max by (game) (gamepulse_business_revenue_usd_per_minute{game=~"$game"}))`, "")).
			Decimals(2)).
		WithPanel(singleStat("Sessions started per minute", units.CountsPerMinute,
			"Sessions started in the latest final minute, summed over the selected games.",
			q(`sum(max by (game) (gamepulse_business_sessions_started_per_minute{game=~"$game"}))`, ""))).
		WithPanel(singleStat("Mean revenue per minute (time range)", units.Dollars,
			"Net revenue per minute, averaged over the dashboard's time range and summed over the selected games. The warehouse has exact totals (gamepulse kpis).",
			q(`sum(max by (game) (avg_over_time(gamepulse_business_revenue_usd_per_minute{game=~"$game"}[$__range])))`, "")).
			Decimals(2)).
		WithPanel(timeSeries("Active players by game", units.Short,
			"Distinct players active per minute.",
			q(`max by (game) (gamepulse_business_active_players{game=~"$game"})`, "{{game}}")).
			Min(0)).
		WithPanel(timeSeries("Revenue per minute by game", units.Dollars,
			"Net revenue (purchases + ads − refunds) per minute.",
			q(`max by (game) (gamepulse_business_revenue_usd_per_minute{game=~"$game"})`, "{{game}}"))).
		WithPanel(timeSeries("Sessions started per minute by game", units.CountsPerMinute,
			"Sessions started per minute.",
			q(`max by (game) (gamepulse_business_sessions_started_per_minute{game=~"$game"})`, "{{game}}")).
			Min(0)).
		WithPanel(timeSeries("Events accepted by game", units.EventsPerSecond,
			"Events the gateway accepted (acknowledged by Kafka), per game: the raw traffic behind the KPIs.",
			q(`sum by (game) (rate(gamepulse_gateway_events_accepted_total{game=~"$game"}[$__rate_interval]))`, "{{game}}")).
			Min(0))

	b.WithRow(dashboard.NewRowBuilder("Level funnel: the levels with the most fails")).
		WithPanel(bars("Fail rate by level", units.PercentUnit,
			"Fails per start in the latest final minute, hardest first, for each game's levels with the most fails (the processor exports the top 10).",
			q(`sort_desc(max by (game, level) (gamepulse_business_level_fails_per_minute{game=~"$game"}) / (max by (game, level) (gamepulse_business_level_starts_per_minute{game=~"$game"}) > 0))`, "{{game}} level {{level}}")).
			Max(1).
			Thresholds(thresholds("green", step(0.3, "orange"), step(0.6, "red")))).
		WithPanel(bars("Level starts per minute", units.CountsPerMinute,
			"Level starts in the latest final minute, most played first, for each game's levels with the most fails.",
			q(`sort_desc(max by (game, level) (gamepulse_business_level_starts_per_minute{game=~"$game"}))`, "{{game}} level {{level}}"))).
		WithPanel(timeSeries("Level starts and fails per minute", units.CountsPerMinute,
			"Starts and fails per minute of each game's levels with the most fails.",
			q(`max by (game, level) (gamepulse_business_level_starts_per_minute{game=~"$game"})`, "{{game}} level {{level}} starts"),
			q(`max by (game, level) (gamepulse_business_level_fails_per_minute{game=~"$game"})`, "{{game}} level {{level}} fails")).
			Span(24).Min(0))

	b.WithRow(dashboard.NewRowBuilder("Completeness")).
		WithPanel(timeSeries("Lost, duplicate and out-of-order events", units.PercentUnit,
			"Per event accepted by the gateway: sequence numbers missing (gaps: events lost), repeated (duplicates) and out of order, from the clients' event sequence numbers.",
			q(`sum by (kind) (increase(gamepulse_processor_completeness_seqs{game=~"$game"}[$__rate_interval])) / on () group_left () sum(increase(gamepulse_gateway_events_accepted_total{game=~"$game"}[$__rate_interval]))`, "{{kind}}")).
			Min(0).Decimals(3)).
		WithPanel(timeSeries("Completeness ledger since start", units.Short,
			"Sequence numbers lost (gaps), repeated (duplicates) and out of order since each processor instance started, by game and kind.",
			q(`sum by (game, kind) (gamepulse_processor_completeness_seqs{game=~"$game"})`, "{{game}} {{kind}}")).
			Min(0)).
		WithPanel(timeSeries("Late events and KPI corrections", units.EventsPerSecond,
			"All games: events that arrived after their minute closed (sent to the late topic), and KPI rows re-emitted because late events changed them.",
			q(`sum(rate(gamepulse_processor_late_events_total[$__rate_interval]))`, "late events"),
			q(`sum(rate(gamepulse_processor_kpi_corrections_total[$__rate_interval]))`, "KPI rows corrected")).
			Span(8).Min(0)).
		WithPanel(bars("Reconcile differences by table", units.Short,
			"KPI rows and figures that differed between the stored table and a recomputation from events, in the last `gamepulse reconcile` run. 0 is right.",
			q(`max by (table) (gamepulse_reconcile_differences)`, "{{table}}")).
			Span(8).
			Thresholds(thresholds("green", step(1, "red")))).
		WithPanel(singleStat("Last successful reconcile", units.Seconds,
			"Time since the last `gamepulse reconcile` run that completed started.",
			q(`time() - max(gamepulse_reconcile_last_success_timestamp_seconds > 0)`, "")).
			Span(8).Height(8).
			Thresholds(thresholds("green", step(7200, "orange"), step(86400, "red"))))

	return build(b)
}
