package engine

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The data-driven test files in testdata/ have this format (a small cousin of
// Pebble's datadriven package, without the dependency):
//
//	# A comment. Comments and blank lines between cases are skipped.
//	command key=value key=value
//	input line
//	input line
//	----
//	expected output line
//	expected output line
//
// A case is a command line, optional input lines, a "----" line and the
// expected output, which ends at the first blank line (so output has no blank
// lines; an empty output is "----" followed by a blank line). Cases run in
// order against state that lives for the whole file; the commands are in
// stream_test.go.
//
// `go test ./internal/engine -run TestDataDriven -rewrite` writes the actual
// outputs into the files: review the diff before keeping it.

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the data-driven tests")

// ddCase is one case of a data-driven file.
type ddCase struct {
	pos   string // file:line of the command
	cmd   string
	args  []ddArg
	input []string

	line     int // index of the command line in the file
	sepLine  int // index of the "----" line
	outStart int // first and end index of the expected output lines
	outEnd   int
	want     string
}

type ddArg struct{ key, val string }

// arg returns the value of key and whether it was given.
func (c *ddCase) arg(key string) (string, bool) {
	for _, a := range c.args {
		if a.key == key {
			return a.val, true
		}
	}
	return "", false
}

// parseDD splits a data-driven file into cases.
func parseDD(path, text string) ([]*ddCase, []string, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var cases []*ddCase
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		c := &ddCase{pos: fmt.Sprintf("%s:%d", path, i+1), line: i}
		fields := strings.Fields(l)
		c.cmd = fields[0]
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, nil, fmt.Errorf("%s: argument %q is not key=value", c.pos, f)
			}
			c.args = append(c.args, ddArg{k, v})
		}
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "----"; i++ {
			if strings.TrimSpace(lines[i]) == "" {
				return nil, nil, fmt.Errorf("%s: blank line before ----", c.pos)
			}
			c.input = append(c.input, strings.TrimSpace(lines[i]))
		}
		if i == len(lines) {
			return nil, nil, fmt.Errorf("%s: no ---- line", c.pos)
		}
		c.sepLine = i
		i++
		c.outStart = i
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		}
		c.outEnd = i
		c.want = strings.Join(lines[c.outStart:c.outEnd], "\n")
		cases = append(cases, c)
	}
	return cases, lines, nil
}

// runDD runs the cases of the file at path through run, which returns a
// case's output (lines joined by "\n", no trailing newline needed) or fails
// the test.
func runDD(t *testing.T, path string, run func(t *testing.T, c *ddCase) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases, lines, err := parseDD(path, string(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []string // the rewritten file
	next := 0
	for _, c := range cases {
		got := strings.TrimRight(run(t, c), "\n")
		if *rewrite {
			out = append(out, lines[next:c.outStart]...)
			if got != "" {
				out = append(out, strings.Split(got, "\n")...)
			}
			next = c.outEnd
			continue
		}
		if got != c.want {
			t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", c.pos, lines[c.line], indent(got), indent(c.want))
		}
	}
	if *rewrite {
		out = append(out, lines[next:]...)
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func indent(s string) string {
	if s == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func TestParseDD(t *testing.T) {
	text := `# comment
cmd a=1 b=x
in 1
  in 2
----
out 1
out 2

empty
----

last
----
x`
	cases, _, err := parseDD("f", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Fatalf("%d cases, want 3", len(cases))
	}
	c := cases[0]
	if c.cmd != "cmd" || len(c.args) != 2 || c.args[1] != (ddArg{"b", "x"}) || c.pos != "f:2" {
		t.Errorf("case 0 = %+v", c)
	}
	if strings.Join(c.input, "|") != "in 1|in 2" || c.want != "out 1\nout 2" {
		t.Errorf("case 0 input %q want %q", c.input, c.want)
	}
	if cases[1].want != "" || cases[2].want != "x" {
		t.Errorf("want %q and %q", cases[1].want, cases[2].want)
	}
	for _, bad := range []string{"cmd\nin\n", "cmd x\n----\n", "cmd\n\n----\n"} {
		if _, _, err := parseDD("f", bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
