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
