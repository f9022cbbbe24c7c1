package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func run(t *testing.T, env map[string]string, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errw, Getenv: func(k string) string { return env[k] }}
	err = m.Run(context.Background(), args)
	return out.String(), err
}

func TestProcessHelpListsTheFlagsOfBenchProcess(t *testing.T) {
	out, err := run(t, nil, "process", "--help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range []string{"--brokers", "--mode", "--events", "--delivery", "--rate", "--duration", "--allowed-lateness",
		"--partitions", "--cpu-profile", "--process-args", "--kafka-tls", "--gamepulse", "GAMEPULSE_MODE"} {
		if !strings.Contains(out, f) {
			t.Errorf("help lacks %s:\n%s", f, out)
		}
	}
}

func TestProcessRefusesBadValuesAsUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"process", "--mode", "fast"}, `--mode must be throughput or latency, got "fast"`},
		{nil, []string{"process", "--delivery", "twice"}, "--delivery must be"},
		{nil, []string{"process", "--rate", "0"}, "--rate must be > 0"},
		{nil, []string{"process", "--events", "0"}, "--events must be ≥ 1"},
		{map[string]string{"GAMEPULSE_MODE": "fast"}, []string{"process"}, "GAMEPULSE_MODE"},
		{nil, []string{"process", "--bogus"}, "unknown flag --bogus"},
		{nil, []string{"nope"}, "unknown command"},
	} {
		_, err := run(t, tc.env, tc.args...)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: want a usage error containing %q, got %v", tc.args, tc.want, err)
		}
		m := &Main{Stderr: &bytes.Buffer{}}
		if code := m.report(err); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tc.args, code)
		}
	}
}
