package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Tag is on every gamepulse dashboard; the dashboards' link menu lists the
// dashboards that carry it.
const Tag = "gamepulse"

// ds is the datasource of every panel and variable: the one the dashboard's
// "datasource" variable selects.
func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// newDashboard starts a dashboard with what all of ours share: the tag, the
// datasource variable, a link menu to the others, a shared crosshair, a 1 h
// window refreshed every 30 s.
func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Time("now-1h", "now").
		Refresh("30s").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("gamepulse").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Prometheus").
			Type("prometheus")).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").
			Datasource(common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")}).
			Type("dashboard").
			BuiltIn(1).
			Enable(true).
			Hide(true).
			IconColor("rgba(0, 211, 255, 1)")).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name(alertsAnnotation).
			Datasource(ds()).
			Enable(true).
			IconColor("red").
			Expr(alertsFiring).
			Step("60s").
			TitleFormat("{{alertname}}").
			TagKeys("severity"))
}

// alertsFiring marks, on every graph, when gamepulse's alerting rules
// (deploy/prometheus/rules) fire.
const (
	alertsAnnotation = "gamepulse alerts firing"
	alertsFiring     = `ALERTS{alertstate="firing", alertname=~"Gamepulse.+"}`
)

// gameVariable is the multi-value "game" variable (All by default), read by
// queries as game=~"$game".
func gameVariable() *dashboard.QueryVariableBuilder {
	q := "label_values(gamepulse_business_active_players, game)"
	return dashboard.NewQueryVariableBuilder("game").
		Label("Game").
		Datasource(ds()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}})
}

// target is one PromQL query of a panel.
type target struct {
	expr, legend string
}

func q(expr, legend string) target { return target{expr: expr, legend: legend} }

// refID names the i-th query of a panel: A, B, C...
func refID(i int) string { return string(rune('A' + i)) }

func (t target) build(i int, instant bool) *prometheus.DataqueryBuilder {
	b := prometheus.NewDataqueryBuilder().Expr(t.expr).RefId(refID(i)).Datasource(ds())
	if t.legend != "" {
		b.LegendFormat(t.legend)
	}
	if instant {
		b.Instant()
	} else {
		b.Range()
	}
	return b
}

// timeSeries is a graph of range queries, 12 columns wide and 8 high unless
// the caller changes it.
func timeSeries(title, unit, description string, targets ...target) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(ds()).
		Unit(unit).
		Span(12).
		Height(8).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
	for i, t := range targets {
		p.WithTarget(t.build(i, false))
	}
	return p
}

// singleStat is a big number of instant queries, 6 columns wide and 4 high,
// in the text color unless the caller sets thresholds.
func singleStat(title, unit, description string, targets ...target) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(ds()).
		Unit(unit).
		Span(6).
		Height(4).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		Thresholds(thresholds("text")). // Grafana's default turns values over 80 red
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
	for i, t := range targets {
		p.WithTarget(t.build(i, true))
	}
	return p
}

// bars is a horizontal bar per series of instant queries, 12 columns wide.
func bars(title, unit, description string, targets ...target) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(ds()).
		Unit(unit).
		Span(12).
		Height(8).
		Min(0).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Thresholds(thresholds("blue")).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
	for i, t := range targets {
		p.WithTarget(t.build(i, true))
	}
	return p
}

// thresholds colors values: base below the first step, then each step's
// color from its value up.
func thresholds(base string, steps ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps(append([]dashboard.Threshold{{Color: base}}, steps...))
}

func step(from float64, color string) dashboard.Threshold {
	return dashboard.Threshold{Value: cog.ToPtr(from), Color: color}
}

// quantiles are the p50 and p99 of a histogram over $__rate_interval,
// optionally filtered (label matchers without braces), legends prefixed.
func quantiles(histogram, filter, prefix string) []target {
	sel := histogram + "_bucket"
	if filter != "" {
		sel += "{" + filter + "}"
	}
	var out []target
	for _, p := range []struct{ q, name string }{{"0.5", "p50"}, {"0.99", "p99"}} {
		out = append(out, q(fmt.Sprintf("histogram_quantile(%s, sum by (le) (rate(%s[$__rate_interval])))", p.q, sel), prefix+p.name))
	}
	return out
}

// numberPanels gives every panel and row a dashboard-unique id, in order,
// so that the JSON is stable and links to a panel (viewPanel=N) keep working.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			id++
			p.Panel.Id = cog.ToPtr(id)
		case p.RowPanel != nil:
			id++
			p.RowPanel.Id = id
			for i := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[i].Id = cog.ToPtr(id)
			}
		}
	}
}
