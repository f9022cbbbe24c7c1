package procstat

import (
	"os"
	"testing"
)

func TestParseStat(t *testing.T) {
	cases := []struct {
		name, line string
		want       float64
		ok         bool
	}{
		{"plain", "42 (gamepulse) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0", 3, true},
		{"name with spaces and parentheses", "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 100 100 0 0 20 0 8 0 100 0 0", 2, true},
		{"too short", "42 (x) S 1 2", 0, false},
		{"no name", "garbage", 0, false},
		{"not a number", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 abc 1 0 0 20 0 8 0 100 0 0", 0, false},
	}
	for _, c := range cases {
		got, err := parseStat(c.line)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s: got %v, %v; want %v (ok %v)", c.name, got, err, c.want, c.ok)
		}
	}
}

func TestCPUSecondsOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	if _, err := CPUSeconds(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := CPUSeconds(-1); err == nil {
		t.Fatal("a process that does not exist has a CPU time")
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add("42 (gamepulse) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0")
	f.Add("1 ()")
	f.Fuzz(func(t *testing.T, s string) { parseStat(s) })
}

func TestParseStatusRSS(t *testing.T) {
	cases := []struct {
		name, text string
		want       int64
		ok         bool
	}{
		{"usual", "Name:\tjava\nVmPeak:\t 9000 kB\nVmRSS:\t  524288 kB\nRssAnon:\t 1 kB\n", 512 << 20, true},
		{"last line without newline", "Name:\tx\nVmRSS:\t4 kB", 4096, true},
		{"no VmRSS (zombie)", "Name:\tx\nState:\tZ (zombie)\n", 0, false},
		{"other unit", "VmRSS:\t4 MB\n", 0, false},
		{"not a number", "VmRSS:\tlots kB\n", 0, false},
		{"negative", "VmRSS:\t-4 kB\n", 0, false},
	}
	for _, c := range cases {
		got, err := parseStatusRSS(c.text)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s: got %v, %v; want %v (ok %v)", c.name, got, err, c.want, c.ok)
		}
	}
}

func TestRSSBytesOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	if n, err := RSSBytes(os.Getpid()); err != nil || n <= 0 {
		t.Fatalf("RSSBytes(self) = %d, %v", n, err)
	}
	if _, err := RSSBytes(-1); err == nil {
		t.Fatal("a process that does not exist has a resident size")
	}
}

func FuzzParseStatusRSS(f *testing.F) {
	f.Add("Name:\tjava\nVmRSS:\t  524288 kB\n")
	f.Add("VmRSS:")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseStatusRSS(s); err == nil && n < 0 {
			t.Fatalf("negative size %d from %q", n, s)
		}
	})
}
