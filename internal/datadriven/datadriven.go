// Package datadriven runs the data-driven tests of every package from script
// files in its testdata/ (a small cousin of Pebble's datadriven package,
// without the dependency). Each case is a command line with key=value
// arguments, input lines, a "----" line and the expected output, ended by a
// blank line:
//
//	# comments and blank lines between cases are skipped
//	command key=value bare ...
//	input line
//	...
//	----
//	expected output line
//	...
//	(a blank line or the end of the file ends the case)
//
// An empty output is "----" followed by a blank line; the output itself has
// no blank lines. Input lines are trimmed of surrounding space; blank input
// lines are kept (a package that allows comments in its input skips them
// itself). Cases run in file order, so a test may keep state across them.
//
// One flag for every package: `go test ./internal/x -rewrite` writes the
// actual outputs into the files instead of comparing; review the diff before
// keeping it (docs/testing.md). Only tests import this package.
package datadriven

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the data-driven test files in testdata/")

// Rewriting reports whether -rewrite was given.
func Rewriting() bool { return *rewrite }

// Case is one case of a data-driven test file.
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
func (c *Case) Arg(t testing.TB, name string) string {
	t.Helper()
	v, ok := c.Args[name]
	if !ok {
		t.Fatalf("%s: missing argument %s", c.Pos, name)
	}
	return v
}

// Lookup returns the value of argument name and whether it was given.
func (c *Case) Lookup(name string) (string, bool) {
	v, ok := c.Args[name]
	return v, ok
}

// Parse splits the text of a data-driven file (named name in positions) into
// its cases; it also returns the file's lines, for rewriting.
func Parse(name, text string) ([]*Case, []string, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var cases []*Case
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		c := &Case{Pos: name + ":" + strconv.Itoa(i+1), line: i, Args: map[string]string{}}
		f := strings.Fields(l)
		c.Cmd = f[0]
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			if _, dup := c.Args[k]; dup {
				return nil, nil, fmt.Errorf("%s: argument %s given twice", c.Pos, k)
			}
			c.Args[k] = v
		}
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "----"; i++ {
			c.Input = append(c.Input, strings.TrimSpace(lines[i]))
		}
		if i == len(lines) {
			return nil, nil, fmt.Errorf("%s: no ---- after the command", c.Pos)
		}
		i++
		c.outStart = i
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		}
		c.outEnd = i
		c.Expected = strings.Join(lines[c.outStart:c.outEnd], "\n")
		cases = append(cases, c)
	}
	return cases, lines, nil
}

// Files returns the data-driven files matching pattern (a filepath.Glob
// pattern such as "testdata/*.txt"), skipping directories such as
// testdata/fuzz, and fails the test when there are none.
func Files(t testing.TB, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no data-driven files match %s", pattern)
	}
	return files
}

// Walk runs each file matching pattern as a subtest named after the file
// (without its extension); newRun returns the function that runs the cases
// of one file, so that state lives for one file.
func Walk(t *testing.T, pattern string, newRun func(t *testing.T) func(t *testing.T, c *Case) string) {
	t.Helper()
	for _, path := range Files(t, pattern) {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		t.Run(name, func(t *testing.T) {
			Run(t, path, newRun(t))
		})
	}
}

// Run runs every case of the file at path through run, in order, and
// compares its output with the expected output, or rewrites the file with
// the outputs when -rewrite is given.
func Run(t *testing.T, path string, run func(t *testing.T, c *Case) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases, lines, err := Parse(filepath.Base(path), string(data))
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
		if got != c.Expected {
			t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", c.Pos, lines[c.line], indent(got), indent(c.Expected))
		}
	}
	if !*rewrite {
		return
	}
	out = append(out, lines[next:]...)
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func indent(s string) string {
	if s == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
