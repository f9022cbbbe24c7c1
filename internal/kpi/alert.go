package kpi

import (
	"fmt"

	"github.com/gamepulse/gamepulse/internal/record"
)

// Alert rule names (the first part of an alert's record key).
const (
	RuleActiveDrop  = "active_players_drop"
	RuleRevenueDrop = "revenue_drop"
	RuleRefundSpike = "refund_spike"
)

// AlertConfig holds the thresholds of the game-level alert rules (design
// rule 8). Zero fields take the defaults (see EnsureDefaults).
type AlertConfig struct {
	// DropPercent: a game's active players or revenue in a minute more than
	// DropPercent % below the mean of its previous History minutes alerts.
	DropPercent float64
	// History is K, the number of previous final minutes in the mean.
	History int
	// ActiveFloor and RevenueFloorMicros: the drop rules apply only when the
	// mean is at least this.
	ActiveFloor        float64
	RevenueFloorMicros float64
	// RefundFactor and RefundFloor: refunds in a minute alert when they are
	// over RefundFactor × their mean over the previous History minutes and
	// at least RefundFloor.
	RefundFactor float64
	RefundFloor  float64
	// Disabled turns the rules off.
	Disabled bool
}

// DefaultAlertConfig returns the design's defaults (50 %, 10 minutes, 3×,
// refund floor 5) and this package's floors for the drops (20 players,
// 1 USD per minute).
func DefaultAlertConfig() AlertConfig {
	return AlertConfig{DropPercent: 50, History: 10, ActiveFloor: 20, RevenueFloorMicros: 1e6,
		RefundFactor: 3, RefundFloor: 5}
}

// EnsureDefaults fills zero fields from DefaultAlertConfig.
func (c *AlertConfig) EnsureDefaults() {
	d := DefaultAlertConfig()
	if c.DropPercent == 0 {
		c.DropPercent = d.DropPercent
	}
	if c.History == 0 {
		c.History = d.History
	}
	if c.ActiveFloor == 0 {
		c.ActiveFloor = d.ActiveFloor
	}
	if c.RevenueFloorMicros == 0 {
		c.RevenueFloorMicros = d.RevenueFloorMicros
	}
	if c.RefundFactor == 0 {
		c.RefundFactor = d.RefundFactor
	}
	if c.RefundFloor == 0 {
		c.RefundFloor = d.RefundFloor
	}
}

// Validate reports the first problem with c.
func (c *AlertConfig) Validate() error {
	switch {
	case c.DropPercent <= 0 || c.DropPercent > 100:
		return fmt.Errorf("kpi: alert drop percent must be in (0, 100], got %v", c.DropPercent)
	case c.History < 1:
		return fmt.Errorf("kpi: alert history must be >= 1 minute, got %d", c.History)
	case c.ActiveFloor < 0 || c.RevenueFloorMicros < 0 || c.RefundFloor < 0:
		return fmt.Errorf("kpi: alert floors must be >= 0")
	case c.RefundFactor <= 0:
		return fmt.Errorf("kpi: alert refund factor must be > 0, got %v", c.RefundFactor)
	}
	return nil
}

// Alert is one fired rule, as written to the alerts topic: package record
// defines it. The game rules' Subject and GameID are both the game.
type Alert = record.Alert

// minuteFigures are the figures of one game-level minute the rules read.
type minuteFigures struct {
	active, revenue, refunds float64
}

// evaluate applies the rules to a game's minute m with figures cur, given
// the figures of the History minutes before it (oldest first; minutes
// without a row are zero).
func (c *AlertConfig) evaluate(game string, m Key, cur minuteFigures, prev []minuteFigures) []Alert {
	var mean minuteFigures
	for _, p := range prev {
		mean.active += p.active
		mean.revenue += p.revenue
		mean.refunds += p.refunds
	}
	n := float64(len(prev))
	mean.active /= n
	mean.revenue /= n
	mean.refunds /= n
	at := Alert{Subject: game, GameID: game, Start: m.Start.UTC(), End: m.End().UTC()}
	window := at.WindowString()
	keep := 1 - c.DropPercent/100
	var out []Alert
	fire := func(rule string, observed, baseline, threshold float64, msg string) {
		a := at
		a.Rule, a.Observed, a.Baseline, a.Threshold, a.Message = rule, observed, baseline, threshold, msg
		out = append(out, a)
	}
	if mean.active >= c.ActiveFloor && mean.active > 0 && cur.active < mean.active*keep {
		fire(RuleActiveDrop, cur.active, mean.active, mean.active*keep,
			fmt.Sprintf("%s: %.0f active players in %s, more than %g%% below the mean of the previous %d minutes (%.1f)",
				game, cur.active, window, c.DropPercent, len(prev), mean.active))
	}
	if mean.revenue >= c.RevenueFloorMicros && mean.revenue > 0 && cur.revenue < mean.revenue*keep {
		fire(RuleRevenueDrop, cur.revenue, mean.revenue, mean.revenue*keep,
			fmt.Sprintf("%s: revenue %.2f USD in %s, more than %g%% below the mean of the previous %d minutes (%.2f USD)",
				game, cur.revenue/1e6, window, c.DropPercent, len(prev), mean.revenue/1e6))
	}
	if th := mean.refunds * c.RefundFactor; cur.refunds > th && cur.refunds >= c.RefundFloor {
		fire(RuleRefundSpike, cur.refunds, mean.refunds, th,
			fmt.Sprintf("%s: %.0f refunds in %s, over %g× the mean of the previous %d minutes (%.2f)",
				game, cur.refunds, window, c.RefundFactor, len(prev), mean.refunds))
	}
	return out
}
