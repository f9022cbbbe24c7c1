package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gamepulse/gamepulse/internal/config"
)

// settingsCommand prints every command's settings as Markdown; docs/settings.md
// is this output (a test keeps them equal).
func settingsCommand() command {
	c := command{
		name:    "settings",
		summary: "print every setting of every command (Markdown)",
		usage: `Usage: gamepulse settings [command]

Prints, for each command (or the one named), a table of its settings: flag,
environment variable, default and meaning.`,
	}
	c.run = func(ctx context.Context, env *Env, args []string) error {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(env.Stderr)
		fs.Usage = func() { fmt.Fprintln(env.Stdout, c.usage) }
		if err := parseArgs(fs, args, 1); err != nil {
			return err
		}
		only := fs.Arg(0)
		found := false
		for _, cmd := range commands() {
			if only != "" && cmd.name != only {
				continue
			}
			sfs := settingsOf(cmd)
			if sfs == nil {
				continue
			}
			found = true
			fmt.Fprintf(env.Stdout, "### gamepulse %s\n\n%s\n", cmd.name, config.Describe(sfs))
		}
		if only != "" && !found {
			return usagef("no command %q with settings", only)
		}
		return nil
	}
	return c
}

// settingsOf runs cmd with --help into a discarded writer to collect its flag
// set. Commands register every flag before parsing, so --help sees them all.
func settingsOf(cmd command) *flag.FlagSet {
	if cmd.name == "settings" || cmd.name == "version" {
		return nil
	}
	var captured *flag.FlagSet
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
		onFlags: func(fs *flag.FlagSet) { captured = fs }}
	cmd.run(context.Background(), env, []string{"--help"})
	return captured
}
