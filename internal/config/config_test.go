package config

import (
	"errors"
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

func TestFlagsMayFollowArguments(t *testing.T) {
	fs, listen, _, max := gatewayFlags()
	verbose := fs.Bool("verbose", false, "")
	err := Resolve(fs, "gateway", []string{"one", "--max-events", "3", "-", "--verbose", "--listen=:1", "--", "--max-events", "-"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if *max != 3 || *listen != ":1" || !*verbose {
		t.Fatalf("flags after an argument were not parsed: max=%d listen=%q verbose=%v", *max, *listen, *verbose)
	}
	if got := strings.Join(fs.Args(), " "); got != "one - --max-events -" {
		t.Fatalf("arguments: %q", got)
	}
}

func TestParseErrorsNameTheFlagAndPrintNothing(t *testing.T) {
	for args, want := range map[string]string{
		"--bogus":           "unknown flag --bogus",
		"-bogus=1":          "unknown flag --bogus",
		"--max-events":      "flag --max-events needs a value",
		"--max-events lots": `invalid value "lots" for --max-events: parse error`,
		"---x":              "bad flag syntax: ---x",
	} {
		fs, _, _, _ := gatewayFlags()
		var out strings.Builder
		fs.SetOutput(&out)
		fs.Usage = func() { out.WriteString("usage") }
		err := Resolve(fs, "gateway", strings.Fields(args), func(string) string { return "" })
		if err == nil || err.Error() != want {
			t.Errorf("%s: want %q, got %v", args, want, err)
		}
		if out.Len() > 0 {
			t.Errorf("%s: printed %q", args, out.String())
		}
	}
}

func TestCheckSeesEverySource(t *testing.T) {
	file := filepath.Join("testdata", "gateway.good.yaml")
	check := func(f *flag.Flag) error {
		if f.Name == "max-events" && f.Value.String() != "1000" {
			return errors.New("--max-events must be 1000, got " + f.Value.String())
		}
		return nil
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-events", "9"}, nil, "--max-events must be 1000, got 9"},
		{nil, map[string]string{"GAMEPULSE_MAX_EVENTS": "7"}, "GAMEPULSE_MAX_EVENTS: --max-events must be 1000, got 7"},
		{[]string{"--config", file}, nil, file + ": max-events: --max-events must be 1000, got 500"},
		{[]string{"--max-events", "1000"}, map[string]string{"GAMEPULSE_MAX_EVENTS": "7"}, ""},
	} {
		fs, _, _, _ := gatewayFlags()
		err := ResolveChecked(fs, "gateway", tc.args, func(k string) string { return tc.env[k] }, check)
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want)) {
			t.Errorf("%q %v: want %q, got %v", tc.args, tc.env, tc.want, err)
		}
	}
}
