package config

import (
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func gatewayFlags() (*flag.FlagSet, *string, *string, *int) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("config", "", "config file")
	listen := fs.String("listen", ":8080", "listen address")
	brokers := fs.String("brokers", "", "brokers")
	max := fs.Int("max-events", 1000, "events per batch")
	return fs, listen, brokers, max
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join("testdata", "gateway.good.yaml")
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		listen    string
		brokers   string
		maxEvents int
	}{
		{"defaults", nil, nil, ":8080", "", 1000},
		{"file", []string{"--config", file}, nil, "127.0.0.1:8081", "127.0.0.1:9092,127.0.0.1:9093", 500},
		{"env over file", []string{"--config", file}, map[string]string{"GAMEPULSE_MAX_EVENTS": "7"}, "127.0.0.1:8081", "127.0.0.1:9092,127.0.0.1:9093", 7},
		{"flag over env", []string{"--config", file, "--max-events", "9"}, map[string]string{"GAMEPULSE_MAX_EVENTS": "7"}, "127.0.0.1:8081", "127.0.0.1:9092,127.0.0.1:9093", 9},
		{"config from env", nil, map[string]string{"GAMEPULSE_CONFIG": file}, "127.0.0.1:8081", "127.0.0.1:9092,127.0.0.1:9093", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, listen, brokers, max := gatewayFlags()
			err := Resolve(fs, "gateway", tc.args, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if *listen != tc.listen || *brokers != tc.brokers || *max != tc.maxEvents {
				t.Fatalf("got listen=%q brokers=%q max=%d", *listen, *brokers, *max)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	if len(files) == 0 {
		t.Fatal("no bad fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fs, _, _, _ := gatewayFlags()
			if err := Resolve(fs, "gateway", []string{"--config", f}, func(string) string { return "" }); err == nil {
				t.Fatal("accepted a bad config file")
			} else if !strings.Contains(err.Error(), f) {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
}

func TestBadEnv(t *testing.T) {
	fs, _, _, _ := gatewayFlags()
	err := Resolve(fs, "gateway", nil, func(k string) string {
		if k == "GAMEPULSE_MAX_EVENTS" {
			return "many"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "GAMEPULSE_MAX_EVENTS") {
		t.Fatalf("want an error naming the variable, got %v", err)
	}
}

func TestDescribe(t *testing.T) {
	fs, _, _, _ := gatewayFlags()
	d := Describe(fs)
	if !strings.Contains(d, "`--max-events` | `GAMEPULSE_MAX_EVENTS` | `1000` | events per batch") {
		t.Fatalf("unexpected table:\n%s", d)
	}
}
