package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestGatewayRefusesBadSettingsBeforeWaitingForKafka: nonsense limits and a
// bad listen address are reported at once, naming the setting, with no Kafka
// reachable (the brokers' address refuses connections).
func TestGatewayRefusesBadSettingsBeforeWaitingForKafka(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--max-body-bytes", "-1"}, "--max-body-bytes must be ≥ 1"},
		{[]string{"--max-events", "0"}, "--max-events must be ≥ 1"},
		{[]string{"--max-event-bytes", "0"}, "--max-event-bytes must be ≥ 1"},
		{[]string{"--max-depth", "-3"}, "--max-depth must be ≥ 1"},
		{[]string{"--max-decompressed-bytes", "0"}, "--max-decompressed-bytes"},
		{[]string{"--max-pending-events", "0"}, "--max-pending-events"},
		{[]string{"--max-past", "-1s"}, "--max-past must be > 0"},
		{[]string{"--max-future", "-1s"}, "--max-future must be ≥ 0"},
		{[]string{"--rate-limit", "-5"}, "--rate-limit must be ≥ 0"},
		{[]string{"--produce-timeout", "0s"}, "--produce-timeout must be > 0"},
		{[]string{"--retry-after", "-1s"}, "--retry-after must be > 0"},
		{[]string{"--shutdown-grace", "-1s"}, "--shutdown-grace must be ≥ 0"},
		{[]string{"--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"--listen", "nonsense"}, "--listen"},
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests = append(tests, struct {
		args []string
		want string
	}{[]string{"--listen", busy.Addr().String()}, "address already in use"})
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out bytes.Buffer
			env := &Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string {
				if k == "GAMEPULSE_API_KEYS" {
					return "k=g"
				}
				return ""
			}}
			args := append([]string{"gateway", "--brokers", "127.0.0.1:1", "--listen", "127.0.0.1:0"}, tc.args...)
			start := time.Now()
			err := Main(ctx, env, args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q\n%s", err, tc.want, out.String())
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %s: the error must come before waiting for Kafka", d)
			}
		})
	}
}
