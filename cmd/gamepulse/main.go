package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// Command is one subcommand, one type per command in its own file (as
// Litestream's ReplicateCommand): its name, a line for gamepulse help, the
// usage line and a paragraph that teaches it, and Run, which declares its
// flags, resolves them from args, the environment and --config, and runs it.
type Command interface {
	Name() string
	Summary() string
	Usage() string
	Run(ctx context.Context, env *Env, args []string) error
}

// Env is what a command may touch of the outside world; tests replace it.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	onFlags func(*flag.FlagSet) // sees each command's flag set (the settings command)
}

// commands are gamepulse's subcommands in the order gamepulse help lists them.
func commands() []Command {
	return []Command{
		&DemoCommand{},
		&GatewayCommand{},
		&ProcessCommand{},
		&LoadCommand{},
		&ReplayCommand{},
		&ReconcileCommand{},
		&QueryCommand{},
		&KPIsCommand{},
		&DashboardsCommand{},
		&SimulateCommand{},
		&BrokerCommand{},
		&DoctorCommand{},
		&TopicsCommand{},
		&TailCommand{},
		&LoadtestCommand{},
		&SettingsCommand{},
		&VersionCommand{},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // the first signal stops cleanly; a second one kills at once
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := report(env.Stderr, Main(ctx, env, os.Args[1:]))
	stop()
	os.Exit(code)
}

// usageError is a mistake in how gamepulse was called: an unknown command or
// flag, a bad flag value, a stray argument. report prints it as one line and
// a hint, and the exit status is 2.
type usageError struct {
	command string // the subcommand, "" before one is known
	err     error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// asUsage marks err, when it is not one already, as a usage error.
func asUsage(err error) error {
	var ue *usageError
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.As(err, &ue) {
		return err
	}
	return &usageError{err: err}
}

// report prints Main's error on w and returns the exit status: 0 for success
// and --help; 2 for a usage error, printed as
//
//	gamepulse gateway: unknown flag --bogus
//	Run 'gamepulse gateway --help' for usage.
//
// and 1 for any other error.
func report(w io.Writer, err error) int {
	var ue *usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		prog := "gamepulse"
		if ue.command != "" {
			prog += " " + ue.command
		}
		msg := strings.TrimPrefix(err.Error(), ue.command+": ") // messages that name their command already
		fmt.Fprintf(w, "%s: %s\nRun '%s --help' for usage.\n", prog, msg, prog)
		return 2
	}
	fmt.Fprintln(w, "gamepulse:", err)
	return 1
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
	if args[0] == "--version" || args[0] == "-version" {
		args = append([]string{"version"}, args[1:]...)
	}
	if args[0] == "bench-process" {
		return &usageError{command: args[0], err: errors.New("bench-process moved to its own binary, which links the test helpers this one does not: go build -o bin/ ./cmd/gamepulse ./cmd/gamepulse-bench, then bin/gamepulse-bench process (same flags)")}
	}
	for _, c := range commands() {
		if c.Name() == args[0] {
			err := withFlagNames(c.Run(ctx, env, args[1:]))
			var ue *usageError
			if errors.As(err, &ue) && ue.command == "" {
				ue.command = c.Name()
			}
			return err
		}
	}
	if strings.HasPrefix(args[0], "-") {
		return usagef("unknown flag %s", args[0])
	}
	return usagef("unknown command %q", args[0])
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `gamepulse — a real-time analytics pipeline for game telemetry.

Game clients send events to the gateway; the gateway validates them and stores
them in Kafka, partitioned by player. The processor turns them into sessions,
KPIs and alerts, exactly once, and the loader writes the results into DuckDB
or Snowflake.

Usage:
  gamepulse <command> [flags]

Commands:
`)
	cmds := commands()
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-13s %s\n", c.Name(), c.Summary())
	}
	fmt.Fprint(w, `
Start here:
  gamepulse demo                 run the pipeline in one process: broker, gateway,
                                 processor, loader, reconcile and the simulator
  gamepulse help <command>       flags, environment variables and examples

Every flag can also be set as GAMEPULSE_<FLAG> in the environment (dashes
become underscores: --max-events is GAMEPULSE_MAX_EVENTS) or in a YAML file
given with --config. Flags win over the environment, which wins over the file.
`)
}

// newFlagSet returns a flag set whose --help teaches: the command's paragraph,
// then every flag with its environment variable and default.
func newFlagSet(env *Env, c Command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name(), flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := env.Stdout
		fmt.Fprintf(w, "%s\n\nFlags (each also GAMEPULSE_<FLAG> in the environment or a key in --config):\n", strings.TrimSpace(c.Usage()))
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

// buildCommit is the commit a build without VCS stamping was made from
// (GOFLAGS=-buildvcs=false); make build sets it with -ldflags -X.
var buildCommit string

// VersionCommand is "gamepulse version": the version, the commit and the Go
// version of the binary, from its build information.
type VersionCommand struct{}

func (*VersionCommand) Name() string { return "version" }
func (*VersionCommand) Summary() string {
	return "print the version, the commit and the Go version (also gamepulse --version)"
}
func (*VersionCommand) Usage() string { return "" }

// Run prints the version, the commit and the Go version.
func (*VersionCommand) Run(_ context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(env.Stdout, "Usage: gamepulse version (or gamepulse --version)\n\nPrints the version, the commit it was built from and the Go version.")
	}
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	commit, goVersion := "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		var rev, at, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = " " + s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
		if rev != "" {
			commit = rev + at + modified
		}
	}
	if commit == "unknown" && buildCommit != "" {
		commit = buildCommit
	}
	fmt.Fprintln(env.Stdout, "gamepulse", version())
	fmt.Fprintln(env.Stdout, "commit:", commit)
	fmt.Fprintf(env.Stdout, "go: %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return nil
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
