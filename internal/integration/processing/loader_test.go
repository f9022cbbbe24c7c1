//go:build integration

package processing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/oracle"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// startLoader runs a gamepulse load instance into the DuckDB file path.
func (s *setup) startLoader(name, path string) *instance {
	s.t.Helper()
	tp := s.topics
	args := []string{"load", "--brokers", strings.Join(brokers(s.t), ","), "--warehouse", "duckdb://" + path,
		"--load-group", s.appID + ".loader", "--load-session-timeout", "6s",
		"--topic-raw", tp.Raw, "--topic-deadletter", tp.DeadLetter, "--topic-enriched", tp.Enriched,
		"--topic-sessions", tp.Sessions, "--topic-kpi", tp.KPI, "--topic-alerts", tp.Alerts,
		"--batch-rows", "20000", "--batch-interval", "300ms", "--metrics-listen", "", "--log-format", "json"}
	return s.run(name, args)
}

// loaderBehind returns how many records of the output topics the loader
// group has not committed (it commits to Kafka after each applied batch).
func (s *setup) loaderBehind(ctx context.Context) int64 {
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return -1
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	t := s.topics
	topics := []string{t.Enriched, t.DeadLetter, t.Sessions, t.KPI, t.Alerts}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return -1
	}
	committed, err := adm.FetchOffsets(ctx, s.appID+".loader")
	if err != nil {
		return -1
	}
	var behind int64
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		at := int64(0)
		if ok {
			at = c.At
		}
		// Transactional topics end with a commit marker the loader never
		// sees as a record: one offset of slack per partition.
		if o.Offset-at > 1 {
			behind += o.Offset - at
		}
	})
	return behind
}

// TestLoaderCrashes: the processor turns a million simulated events into
// its outputs; then the loader is killed with SIGKILL twenty times while it
// loads them into DuckDB, and restarted each time. At the end every table
// must hold each record of its topic exactly once: events = the gateway's
// accepted events minus dead letters and duplicates, and the KPI tables
// each row's latest version.
func TestLoaderCrashes(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	s := newSetup(t, "--session-timeout", "6s")
	if err := s.produce(ctx, 14, n); err != nil {
		t.Fatal(err)
	}
	proc := s.start("processor")
	if err := pipelinetest.WaitCaughtUp(ctx, s.opts, s.appID, s.topics); err != nil {
		t.Fatal(err)
	}
	s.stop(proc)
	out, err := pipelinetest.ReadOutputs(ctx, s.opts, s.topics)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "warehouse.duckdb")
	rng := rand.New(rand.NewPCG(3, 4))
	kills := 0
	for kills < 20 {
		in := s.startLoader("loader", path)
		time.Sleep(time.Duration(700+rng.IntN(2000)) * time.Millisecond)
		s.checkAlive()
		s.kill(in)
		kills++
	}
	in := s.startLoader("loader", path)
	for s.loaderBehind(ctx) != 0 {
		if ctx.Err() != nil {
			t.Fatal("the loader never caught up")
		}
		s.checkAlive()
		time.Sleep(300 * time.Millisecond)
	}
	s.stop(in)

	db, err := warehouse.OpenDuckDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int64 {
		var v int64
		if err := db.DB().QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	var dead int64
	for _, c := range out.DeadLetters {
		dead += c
	}
	rep, err := pipelinetest.RunOracle(ctx, s.opts, s.topics.Raw, oracle.Params{Partitions: partitions, Rates: pipelinetest.SimRates})
	if err != nil {
		t.Fatal(err)
	}
	dups := rep.DuplicateEvents + rep.DuplicatePurchases
	checks := []struct {
		name string
		got  int64
		want int64
	}{
		{"events", count("SELECT count(*) FROM events"), int64(out.Enriched)},
		{"distinct event ids", count("SELECT count(DISTINCT event_id) FROM events"), int64(len(out.EnrichedIDs))},
		{"sessions", count("SELECT count(*) FROM sessions"), int64(len(out.Sessions))},
		{"dead letters", count("SELECT count(*) FROM dead_letters"), dead},
		{"kpi rows", count("SELECT count(*) FROM kpi_minute") + count("SELECT count(*) FROM kpi_hour"), int64(len(out.KPI))},
		{"completeness rows", count("SELECT count(*) FROM completeness"), int64(len(out.Completeness))},
		{"events = accepted − dead letters − duplicates (oracle)", count("SELECT count(*) FROM events"), int64(out.Raw) - dead - dups},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d in the warehouse, want %d", c.name, c.got, c.want)
		}
	}
	var wrongVersion int
	for key, v := range out.KPI {
		parts := strings.Split(key, "|")
		var version int64
		err := db.DB().QueryRowContext(ctx, fmt.Sprintf("SELECT version FROM kpi_%s WHERE window_start = ?::TIMESTAMPTZ AND game_id = ? AND platform = ? AND country = ?", parts[0]),
			parts[1], strings.Join(parts[2:len(parts)-2], "|"), parts[len(parts)-2], parts[len(parts)-1]).Scan(&version)
		if err != nil || version != int64(v["version"].(float64)) {
			wrongVersion++
		}
	}
	if wrongVersion > 0 {
		t.Errorf("%d KPI rows missing or not at their latest version", wrongVersion)
	}
	t.Logf("%d loader kills; warehouse: %d events, %d sessions, %d dead letters, %d KPI rows", kills,
		count("SELECT count(*) FROM events"), count("SELECT count(*) FROM sessions"), dead, len(out.KPI))
}
