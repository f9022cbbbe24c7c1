// Package datadriven runs data-driven tests from files in testdata/: each
// case is a command line with key=value arguments, input lines, a "----"
// line and the expected output, ended by a blank line. With rewrite set, the
// expected outputs are rewritten from what the code produces. Test packages
// keep their own -rewrite flag and pass its value in.
package datadriven

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Case is one case of a data-driven test file:
//
//	# comments and blank lines between cases
//	command arg=value ...
//	input line
//	...
//	----
//	expected output line
//	...
//	(a blank line or the end of the file ends the case)
type Case struct {
	Pos      string // file:line of the command
	Cmd      string
	Args     map[string]string // key=value arguments; a bare word maps to ""
	Input    []string
	Expected string
	line     int // index of the command line in the file
	outStart int // index of the first expected line
	outEnd   int // index after the last expected line
}

// Arg returns the value of argument name, failing the test without it.
func (c *Case) Arg(t *testing.T, name string) string {
	t.Helper()
	v, ok := c.Args[name]
	if !ok {
		t.Fatalf("%s: missing argument %s", c.Pos, name)
	}
	return v
}

func parseCases(t *testing.T, path string) ([]string, []*Case) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []*Case
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		c := &Case{Pos: filepath.Base(path) + ":" + strconv.Itoa(i+1), line: i, Args: map[string]string{}}
		f := strings.Fields(l)
		c.Cmd = f[0]
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			c.Args[k] = v
		}
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.Input = append(c.Input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s: no ---- after the command", c.Pos)
		}
		i++
		c.outStart = i
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.outEnd = i
		c.Expected = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return lines, cases
}

// runDataDriven runs every case of path through run, in order, and compares
// its output with the expected output (or rewrites it with -rewrite).
// Run runs every case of the file at path through run and compares the
// output with the expected output, or rewrites the file when rewrite is set.
func Run(t *testing.T, path string, rewrite bool, run func(t *testing.T, c *Case) string) {
	t.Helper()
	lines, cases := parseCases(t, path)
	var got []string
	for _, c := range cases {
		out := strings.TrimRight(run(t, c), "\n")
		got = append(got, out)
		if !rewrite && out != c.Expected {
			t.Errorf("%s: %s\n--- got:\n%s\n--- want:\n%s", c.Pos, lines[c.line], out, c.Expected)
		}
	}
	if !rewrite {
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
