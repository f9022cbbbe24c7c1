package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestProductionBinaryLinksNoTestHelpers keeps the harnesses in
// cmd/gamepulse-bench: no package of this module that gamepulse links imports
// the testing package, and it links neither the oracle nor a *test helper
// package. (The standard testing package itself is still linked through a
// dependency of the Snowflake driver: gosnowflake → arrow-go/parquet →
// apache/thrift, which imports it; the test names that path if it changes.)
func TestProductionBinaryLinksNoTestHelpers(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	out, err := exec.Command(gotool, "list", "-deps", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/gamepulse/gamepulse/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		ours := strings.HasPrefix(pkg, module)
		if ours && (strings.HasSuffix(pkg, "/oracle") || strings.HasSuffix(pkg, "test")) {
			t.Errorf("gamepulse links %s; harnesses belong in cmd/gamepulse-bench", pkg)
		}
		for _, imp := range strings.Fields(imports) {
			if imp != "testing" {
				continue
			}
			if ours {
				t.Errorf("%s imports testing; gamepulse must not link it", pkg)
			} else if pkg != "github.com/apache/thrift/lib/go/thrift" {
				t.Errorf("the dependency %s imports testing (known: only apache/thrift, via the Snowflake driver)", pkg)
			}
		}
	}
}

func TestBenchProcessPointsToTheBenchBinary(t *testing.T) {
	_, _, err := runCLI(t, nil, "bench-process", "--mode", "throughput")
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "gamepulse-bench process") {
		t.Fatalf("want a usage error naming gamepulse-bench process, got %v", err)
	}
}
