package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gamepulse/gamepulse/internal/config"
)

// SettingsCommand prints every command's settings as Markdown;
// docs/settings.md is this output (a test keeps them equal).
type SettingsCommand struct{}

func (*SettingsCommand) Name() string    { return "settings" }
func (*SettingsCommand) Summary() string { return "print every setting of every command (Markdown)" }
func (*SettingsCommand) Usage() string {
	return `Usage: gamepulse settings [command]

Prints, for each command (or the one named), a table of its settings: flag,
environment variable, default and meaning.`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *SettingsCommand) Run(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet(c.Name(), flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintln(env.Stdout, c.Usage()) }
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	only := fs.Arg(0)
	found := false
	for _, cmd := range commands() {
		if only != "" && cmd.Name() != only {
			continue
		}
		sfs := settingsOf(cmd)
		if sfs == nil {
			continue
		}
		found = true
		fmt.Fprintf(env.Stdout, "### gamepulse %s\n\n%s\n", cmd.Name(), config.Describe(sfs))
	}
	if only != "" && !found {
		return usagef("no command %q with settings", only)
	}
	return nil
}

// settingsOf runs cmd with --help into a discarded writer to collect its flag
// set. Commands register every flag before parsing, so --help sees them all.
func settingsOf(cmd Command) *flag.FlagSet {
	if cmd.Name() == "settings" || cmd.Name() == "version" {
		return nil
	}
	var captured *flag.FlagSet
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
		onFlags: func(fs *flag.FlagSet) { captured = fs }}
	cmd.Run(context.Background(), env, []string{"--help"})
	return captured
}
