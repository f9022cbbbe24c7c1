// Package dashboards owns gamepulse's Grafana dashboards, written as code with
// the grafana-foundation-sdk builders, and the Grafana provisioning files that
// load them.
//
// Three dashboards read the Prometheus metrics of the pipeline:
//
//   - Pipeline health (uid gamepulse-pipeline): throughput, latency, errors and
//     lag of each stage (gateway, processor, loader), the freshness SLO (99 % of
//     events in the warehouse within 2 s), transactions, state restore and dead
//     letters.
//   - Kafka (uid gamepulse-kafka): records produced and consumed, produce
//     latency, exactly-once transactions, consumer lag per partition.
//   - Game KPIs (uid gamepulse-game-kpis): live active players, revenue,
//     sessions and the level funnel per game, and completeness (lost,
//     duplicate and out-of-order events).
//
// Every panel queries the Prometheus datasource chosen by the dashboard's
// "datasource" variable; the provisioned datasource has the fixed uid
// [DatasourceUID]. Files returns the dashboards' JSON and the provisioning
// files, byte for byte what `gamepulse dashboards export DIR` writes and what
// is committed under deploy/grafana. Queries lists every PromQL expression the
// dashboards use, so that tests can check each one parses and finds series in
// a real Prometheus.
//
// The package is pure: it builds values and bytes, and never touches the file
// system or the network.
package dashboards
