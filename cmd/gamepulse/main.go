// Command gamepulse is the real-time game telemetry pipeline: one binary whose
// subcommands run each stage (gateway, broker, simulate, ...) or all of them
// at once (demo). Run `gamepulse help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string // the usage line and a paragraph that teaches the command
	run     func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command may touch of the outside world; tests replace it.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	onFlags func(*flag.FlagSet) // sees each command's flag set (the settings command)
}

func commands() []command {
	return []command{
		demoCommand(),
		gatewayCommand(),
		processCommand(),
		loadCommand(),
		replayCommand(),
		reconcileCommand(),
		queryCommand(),
		kpisCommand(),
		dashboardsCommand(),
		simulateCommand(),
		brokerCommand(),
		doctorCommand(),
		loadtestCommand(),
		benchProcessCommand(),
		settingsCommand(),
		{name: "version", summary: "print the version", run: func(_ context.Context, env *Env, _ []string) error {
			fmt.Fprintln(env.Stdout, "gamepulse", version())
			return nil
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // the first signal stops cleanly; a second one kills at once
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := Main(ctx, env, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gamepulse:", err)
		os.Exit(1)
	}
}

// Main runs the subcommand named by args[0].
func Main(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return Main(ctx, env, []string{args[1], "--help"})
		}
		printHelp(env.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	printHelp(env.Stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `gamepulse — a real-time analytics pipeline for game telemetry.

Game clients send events to the gateway; the gateway validates them and stores
them in Kafka, partitioned by player. Later stages process and load them.

Usage:
  gamepulse <command> [flags]

Commands:
`)
	cmds := commands()
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Start here:
  gamepulse demo                 run broker + gateway + simulator in one process
  gamepulse help <command>       flags, environment variables and examples

Every flag can also be set as GAMEPULSE_<FLAG> in the environment (dashes
become underscores: --max-events is GAMEPULSE_MAX_EVENTS) or in a YAML file
given with --config. Flags win over the environment, which wins over the file.
`)
}

// newFlagSet returns a flag set whose --help teaches: the command's paragraph,
// then every flag with its environment variable and default.
func newFlagSet(env *Env, c command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := env.Stdout
		fmt.Fprintf(w, "%s\n\nFlags (each also GAMEPULSE_<FLAG> in the environment or a key in --config):\n", strings.TrimSpace(c.usage))
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s%s\n      %s  [%s]\n", f.Name, def, f.Usage, envName(f.Name))
		})
	}
	fs.String("config", "", "YAML config file: top-level keys for every command, a section per command")
	if env.onFlags != nil {
		env.onFlags(fs)
	}
	return fs
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}
