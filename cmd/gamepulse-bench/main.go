// Command gamepulse-bench holds the benchmark harnesses that need the test
// helpers (internal/pipeline/pipelinetest, and through it the testing package
// and the oracle), so the production binary, cmd/gamepulse, links neither.
//
//	gamepulse-bench process --brokers ADDRS --mode throughput|latency [flags]
//
// runs `gamepulse process` as a child process and measures it from outside;
//
//	gamepulse-bench engines --brokers ADDRS --spark-remote sc://HOST:PORT --spark-pids PID[,PID] [flags]
//
// runs it with the Go engine and with --engine spark over the same input and
// compares them (the Spark server's JVM measured with the Spark engine).
// Flags take GAMEPULSE_<FLAG> from the environment and the "bench-process"
// section of a --config file ("bench-engines" for engines), as in gamepulse.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := m.report(m.Run(ctx, os.Args[1:]))
	stop()
	os.Exit(code)
}

// Main dispatches the subcommands; tests replace its writers and environment.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// usageError is a mistake in how the binary was called (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return m.Run(ctx, []string{args[1], "--help"})
		}
		m.usage()
		return nil
	}
	switch args[0] {
	case "process":
		return (&ProcessCommand{}).Run(ctx, m, args[1:])
	case "engines":
		return (&EnginesCommand{}).Run(ctx, m, args[1:])
	}
	return usagef("unknown command %q", args[0])
}

func (m *Main) usage() {
	fmt.Fprint(m.Stdout, `gamepulse-bench — benchmark harnesses for gamepulse (not part of the production binary).

Usage:
  gamepulse-bench <command> [flags]

Commands:
  process   measure the stream processor: events per CPU-second, KPI result latency
  engines   the Go engine against the Spark engine, side by side: drain a backlog,
            events per CPU-second (the Spark JVM included), peak RSS, KPI latency

Run 'gamepulse-bench help <command>' for its flags. The gateway is measured
with 'gamepulse loadtest', an operator tool of the production binary.
`)
}

// report prints err and returns the exit status: 0, 2 for a usage error, 1.
func (m *Main) report(err error) int {
	var ue *usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(m.Stderr, "gamepulse-bench: %s\nRun 'gamepulse-bench --help' for usage.\n", strings.TrimPrefix(err.Error(), "process: "))
		return 2
	}
	fmt.Fprintln(m.Stderr, "gamepulse-bench:", err)
	return 1
}
