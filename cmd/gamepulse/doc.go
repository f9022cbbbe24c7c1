// Command gamepulse is the real-time game telemetry pipeline: one binary whose
// subcommands run each stage (gateway, broker, simulate, ...) or all of them
// at once (demo). Run `gamepulse help` for the list.
//
// The layout follows Litestream's cmd/litestream: Main dispatches args[0] to
// one type per command, each in its own file with its usage text and its Run
// (GatewayCommand in gateway.go, ProcessCommand in process.go, ...). A
// command's Run
//
//  1. opens: newOpening gives the flag set with the log flags, addKafka and
//     addTopics add the shared Kafka and topic flags, the command adds its
//     own (their defaults taken from the component's DefaultConfig), and
//     start resolves them from args, GAMEPULSE_<FLAG> and --config and
//     returns the logger and the topics;
//  2. builds each component's Config from the flags, and the component with
//     New(cfg, deps...) (*T, error), whose Validate errors name Config fields;
//     Main rewrites those into flags (fieldFlags in flags.go), so users read
//     "gateway: --max-events must be ≥ 1, got 0";
//  3. runs the components with Run(ctx) in an errgroup until ctx is done.
//
// Files:
//
//	main.go      Main, the Command interface, the command list, help, exit statuses, version
//	wiring.go    the opening helper; the admin listener (metrics, live page, pprof); the logger;
//	             Kafka flags, clients and topics; openWarehouse; procCPU (internal/procstat)
//	flags.go     the value rules of every flag (flagRuleOf, flagChoices) and fieldFlags
//	settings.go  gamepulse settings: every command's flags as Markdown (docs/settings.md)
//	<command>.go one command each: demo, gateway, process, load, replay, reconcile, query,
//	             kpis, dashboards, simulate, broker, doctor, topics, tail, loadtest
//	drain.go     the demo's ordered drain; progress.go, results.go: terminal output helpers
//
// The benchmark harnesses that need the test helpers (pipelinetest, and through
// it the testing package and the oracle) are in cmd/gamepulse-bench, so this
// binary links none of them (TestProductionBinaryLinksNoTestHelpers).
package main
