package datadriven

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	text := `# comment
cmd a=1 b=x bare
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
	cases, _, err := Parse("f", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Fatalf("%d cases, want 3", len(cases))
	}
	c := cases[0]
	if c.Cmd != "cmd" || len(c.Args) != 3 || c.Args["b"] != "x" || c.Pos != "f:2" {
		t.Errorf("case 0 = %+v", c)
	}
	if v, ok := c.Lookup("bare"); !ok || v != "" {
		t.Errorf("bare = %q, %v", v, ok)
	}
	if strings.Join(c.Input, "|") != "in 1|in 2|" || c.Expected != "out 1\nout 2" {
		t.Errorf("case 0 input %q want %q", c.Input, c.Expected)
	}
	if cases[1].Expected != "" || cases[2].Expected != "x" {
		t.Errorf("want %q and %q", cases[1].Expected, cases[2].Expected)
	}
	for _, bad := range []string{"cmd\nin\n", "cmd a=1 a=2\n----\n"} {
		if _, _, err := Parse("f", bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestRewriteKeepsTheRest: rewriting replaces only the expected outputs;
// comments, commands and inputs stay as written.
func TestRewriteKeepsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	in := "# head\nupper\nab\n----\nstale\n\n# mid\nupper\n----\n\nupper\ncd\n----\n"
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	upper := func(t *testing.T, c *Case) string { return strings.ToUpper(strings.Join(c.Input, "\n")) }
	*rewrite = true
	Run(t, path, upper)
	*rewrite = false
	got, _ := os.ReadFile(path)
	want := "# head\nupper\nab\n----\nAB\n\n# mid\nupper\n----\n\nupper\ncd\n----\nCD\n"
	if string(got) != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	Run(t, path, upper) // and the rewritten file passes
}
