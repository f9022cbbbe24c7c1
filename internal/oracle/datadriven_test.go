package oracle

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of data-driven test files")

// testCase is one case of a data-driven test file:
//
//	# comments and blank lines between cases
//	command arg=value ...
//	input line
//	...
//	----
//	expected output line
//	...
//	(a blank line or the end of the file ends the case)
type testCase struct {
	pos      string // file:line of the command
	cmd      string
	args     map[string]string // key=value arguments; a bare word maps to ""
	input    []string
	expected string
	line     int // index of the command line in the file
	outStart int // index of the first expected line
	outEnd   int // index after the last expected line
}

// arg returns the value of argument name.
func (c *testCase) arg(t *testing.T, name string) string {
	t.Helper()
	v, ok := c.args[name]
	if !ok {
		t.Fatalf("%s: missing argument %s", c.pos, name)
	}
	return v
}

func parseCases(t *testing.T, path string) ([]string, []*testCase) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []*testCase
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		c := &testCase{pos: filepath.Base(path) + ":" + strconv.Itoa(i+1), line: i, args: map[string]string{}}
		f := strings.Fields(l)
		c.cmd = f[0]
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			c.args[k] = v
		}
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.input = append(c.input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s: no ---- after the command", c.pos)
		}
		i++
		c.outStart = i
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.outEnd = i
		c.expected = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return lines, cases
}

// runDataDriven runs every case of path through run, in order, and compares
// its output with the expected output (or rewrites it with -rewrite).
func runDataDriven(t *testing.T, path string, run func(t *testing.T, c *testCase) string) {
	t.Helper()
	lines, cases := parseCases(t, path)
	var got []string
	for _, c := range cases {
		out := strings.TrimRight(run(t, c), "\n")
		got = append(got, out)
		if !*rewrite && out != c.expected {
			t.Errorf("%s: %s\n--- got:\n%s\n--- want:\n%s", c.pos, lines[c.line], out, c.expected)
		}
	}
	if !*rewrite {
		return
	}
	var b strings.Builder
	prev := 0
	for i, c := range cases {
		for _, l := range lines[prev:c.outStart] {
			b.WriteString(l + "\n")
		}
		if got[i] != "" {
			b.WriteString(got[i] + "\n")
		}
		prev = c.outEnd
	}
	for _, l := range lines[prev:] {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
