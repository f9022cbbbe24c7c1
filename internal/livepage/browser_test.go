//go:build browser

package livepage

// The end-to-end test in headless Chromium (Debian's package; install it with
// scripts/chromium.sh install):
//
//	go test -tags browser -run TestBrowser -v ./internal/livepage/
//
// GAMEPULSE_CHROMIUM names the browser (default /usr/bin/chromium);
// GAMEPULSE_TEST_ARTIFACTS, a folder for the screenshot (livepage.png;
// default: the test's temporary folder, logged).

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func chromiumPath(t *testing.T) string {
	bin := os.Getenv("GAMEPULSE_CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no browser at %s (run scripts/chromium.sh install, or set GAMEPULSE_CHROMIUM): %v", bin, err)
	}
	return bin
}

func TestBrowser(t *testing.T) {
	bin := chromiumPath(t)

	// A registry that a goroutine keeps moving like a running pipeline, two
	// minutes of history sampled before the page opens, then the sampler.
	// The late-events counter is left out: the page must show "—" for it.
	f := newFakePipeline(false)
	p := newPage(t, Config{Alerts: []AlertFunc{func(Snapshot) []Condition {
		return []Condition{{Name: "DemoKafkaOutage", Severity: "page", Stage: "gateway", Message: "injected by the browser test"}}
	}}}, f.reg)
	start := time.Now().Add(-2 * time.Minute)
	for i := 1; i <= 120; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		f.step(at, time.Second)
		p.tick(at)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = p.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				f.step(now, 100*time.Millisecond)
			}
		}
	}()
	srv := httptest.NewServer(p)
	defer srv.Close() // after the browser is gone (defers run last-in first-out)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1100),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser and the tab
		t.Fatalf("starting %s: %v", bin, err)
	}

	// Every console message, exception and browser-log entry of the page.
	var cmu sync.Mutex
	var console []chromedp.ConsoleMessage
	lctx, stopListening := context.WithCancel(bctx)
	listened := make(chan struct{})
	messages := chromedp.Console(lctx)
	go func() {
		defer close(listened)
		for m, err := range messages {
			if err != nil {
				return
			}
			cmu.Lock()
			console = append(console, m)
			cmu.Unlock()
		}
	}()

	run := func(what string, d time.Duration, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, d)
		defer cancel()
		if err := chromedp.Do(c, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return v
	}

	run("loading the page", 30*time.Second, chromedp.Navigate(srv.URL+"/"))
	run("waiting for live snapshots", 30*time.Second,
		chromedp.Poll[chromedp.Void](`window.livepage && window.livepage.histories >= 1 && window.livepage.ticks >= 2 && window.livepage.renders >= 2`))

	// The charts drew non-zero data.
	for _, id := range []string{"throughput", "lag", "freshness", "players", "revenue"} {
		got := eval(`(() => { const c = document.getElementById("chart-` + id + `");
			return c.dataset.points + " " + c.dataset.max + " " + c.dataset.series; })()`)
		var points, series int
		var max float64
		if _, err := fmt.Sscan(got, &points, &max, &series); err != nil || points < 100 || max <= 0 || series < 2 {
			t.Errorf("chart %s: points, max, series = %q; want ≥ 100 points of ≥ 2 series, max > 0", id, got)
		}
	}
	// The numbers are filled in; absent series show "—".
	for _, tc := range []struct{ id, want string }{
		{"gw-accepted", ""}, {"proc-consumed", ""}, {"proc-lag", ""}, {"proc-watermark", " s"},
		{"ld-rows", ""}, {"ld-p99", "s"}, {"biz-players", ""}, {"biz-revenue", "$"},
		{"proc-late", "—"}, {"alerts-count", "1"},
	} {
		got := eval(`document.getElementById("` + tc.id + `").textContent`)
		if tc.want == "—" {
			if got != "—" {
				t.Errorf("#%s = %q, want —", tc.id, got)
			}
			continue
		}
		if got == "" || got == "—" || !strings.Contains(got, tc.want) {
			t.Errorf("#%s = %q, want a value with %q", tc.id, got, tc.want)
		}
	}
	if got := eval(`document.querySelectorAll("#levels tr").length + " " + document.querySelector("#alerts-list").textContent`); !strings.HasPrefix(got, "5 ") || !strings.Contains(got, "DemoKafkaOutage") {
		t.Errorf("levels rows and alerts: %q", got)
	}

	// The values move.
	read := `["gw-accepted", "proc-consumed", "ld-rows", "biz-players", "updated"].map(id => document.getElementById(id).textContent).join(" | ")`
	before, ticks := eval(read), eval(`String(window.livepage.ticks)`)
	run("waiting 3 s", 10*time.Second, chromedp.Sleep(3*time.Second))
	after, ticks2 := eval(read), eval(`String(window.livepage.ticks)`)
	if before == after || ticks == ticks2 {
		t.Errorf("nothing changed in 3 s: %q (tick %s) → %q (tick %s)", before, ticks, after, ticks2)
	}
	t.Logf("values: %s → %s", before, after)

	c, cancel := context.WithTimeout(bctx, 20*time.Second)
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	cancel()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("GAMEPULSE_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "livepage.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))

	// A probe message proves that the listener hears the page.
	eval(`console.info("livepage-probe"), "ok"`)
	heard := func() bool {
		cmu.Lock()
		defer cmu.Unlock()
		for _, m := range console {
			if strings.Contains(m.Text, "livepage-probe") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !heard() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !heard() {
		t.Error("the console listener did not hear console.info: console errors would go unseen")
	}
	stopListening()
	<-listened
	cmu.Lock()
	defer cmu.Unlock()
	for _, m := range console {
		switch m.Type {
		case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning:
			t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
		default:
			t.Logf("console %s", m)
		}
	}
}
