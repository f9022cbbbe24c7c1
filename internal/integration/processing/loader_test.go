//go:build integration

package processing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/oracle"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
	"github.com/gamepulse/gamepulse/internal/warehouse/snowflake"
)

// startLoader runs a gamepulse load instance into the warehouse URL, in
// the consumer group group.
func (s *setup) startLoader(name, url, group string) *instance {
	s.t.Helper()
	tp := s.topics
	args := []string{"load", "--brokers", strings.Join(brokers(s.t), ","), "--warehouse", url,
		"--load-group", group, "--load-session-timeout", "6s",
		"--topic-raw", tp.Raw, "--topic-deadletter", tp.DeadLetter, "--topic-enriched", tp.Enriched,
		"--topic-sessions", tp.Sessions, "--topic-kpi", tp.KPI, "--topic-alerts", tp.Alerts,
		"--batch-rows", "20000", "--batch-interval", "300ms", "--metrics-listen", "", "--log-format", "json"}
	return s.run(name, args)
}

// loaderBehind returns how many records of the output topics the loader
// group has not committed (it commits to Kafka after each applied batch).
func (s *setup) loaderBehind(ctx context.Context, group string) int64 {
	n, _ := s.loaderPositions(ctx, group)
	return n
}

// loaderPositions is loaderBehind, and the partitions behind as
// "topic/partition: committed of end" (for a failure message).
func (s *setup) loaderPositions(ctx context.Context, group string) (int64, []string) {
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return -1, []string{err.Error()}
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	t := s.topics
	topics := []string{t.Enriched, t.DeadLetter, t.Sessions, t.KPI, t.Alerts}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return -1, []string{err.Error()}
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1, []string{err.Error()}
	}
	var behind int64
	var where []string
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
			where = append(where, fmt.Sprintf("%s/%d: %d of %d", o.Topic, o.Partition, at, o.Offset))
		}
	})
	return behind, where
}

// The fakesnow server to load into (the address scripts/fakesnow.sh start
// prints); without it the Snowflake half of TestLoaderCrashes fails.
const fakesnowEnv = "GAMEPULSE_TEST_FAKESNOW"

// fakesnowURL returns a --warehouse URL of a new database on the fakesnow
// server (it creates the database it is logged into).
func fakesnowURL(t *testing.T) string {
	addr := os.Getenv(fakesnowEnv)
	if addr == "" {
		t.Fatalf("%s is not set: start a server with scripts/fakesnow.sh start DIR and set it to the address it prints", fakesnowEnv)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := sf.DSN(&sf.Config{Account: "fakesnow", User: "gamepulse", Password: "any", Protocol: "http", Host: host, Port: p,
		Database: fmt.Sprintf("CRASH%d", time.Now().UnixNano()), Schema: "PUBLIC"})
	if err != nil {
		t.Fatal(err)
	}
	return "snowflake://" + dsn
}

// TestLoaderCrashes: the processor turns a million simulated events into
// its outputs; then, for DuckDB and for the Snowflake emulator, the loader
// is killed with SIGKILL twenty times while it loads them, and restarted
// each time. At the end every table must hold each record of its topic
// exactly once: events = the gateway's accepted events minus dead letters
// and duplicates, and the KPI tables the processor's final rows, each at
// its latest version with its figures.
func TestLoaderCrashes(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	s := newSetup(t, "--session-timeout", "6s")
	if err := s.produce(ctx, 14, n); err != nil {
		t.Fatal(err)
	}
	proc := s.start("processor")
	if err := pipelinetest.WaitCaughtUp(ctx, s.opts, s.appID, s.topics, s.appID+".partials"); err != nil {
		t.Fatal(err)
	}
	s.stop(proc)
	out, err := pipelinetest.ReadOutputs(ctx, s.opts, s.topics)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipelinetest.RunOracle(ctx, s.opts, s.topics.Raw, oracle.Params{Partitions: partitions, Rates: pipelinetest.SimRates})
	if err != nil {
		t.Fatal(err)
	}
	for _, wh := range []struct{ name, url string }{
		{"duckdb", "duckdb://" + filepath.Join(t.TempDir(), "warehouse.duckdb")},
		{"snowflake", fakesnowURL(t)},
	} {
		t.Run(wh.name, func(t *testing.T) {
			s.t = t
			testLoaderCrashes(ctx, t, s, wh.url, out, rep)
		})
	}
}

func testLoaderCrashes(ctx context.Context, t *testing.T, s *setup, url string, out *pipelinetest.Outputs, rep *oracle.Report) {
	group := s.appID + ".loader." + t.Name()[strings.LastIndex(t.Name(), "/")+1:]
	rng := rand.New(rand.NewPCG(3, 4))
	kills := 0
	start := time.Now()
	for kills < 20 {
		in := s.startLoader("loader", url, group)
		time.Sleep(time.Duration(700+rng.IntN(2000)) * time.Millisecond)
		s.checkAlive()
		s.kill(in)
		kills++
	}
	in := s.startLoader("loader", url, group)
	for s.loaderBehind(ctx, group) != 0 {
		if ctx.Err() != nil {
			lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			n, where := s.loaderPositions(lctx, group)
			cancel()
			t.Fatalf("the loader never caught up: the group's commits are %d records behind the topics' ends (%s)", n, strings.Join(where, ", "))
		}
		s.checkAlive()
		time.Sleep(300 * time.Millisecond)
	}
	s.stop(in)
	took := time.Since(start)

	w, err := openWarehouse(url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	count := func(q string) int64 {
		var v int64
		if err := w.DB().QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	var dead int64
	for _, c := range out.DeadLetters {
		dead += c
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
	// Every KPI row equals the processor's last record of its key.
	stored := map[string][4]int64{}
	for _, table := range []string{"minute", "hour"} {
		rows, err := w.DB().QueryContext(ctx, "SELECT window_start, game_id, platform, country, version, active_players, purchases, revenue_usd_micros FROM kpi_"+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var start time.Time
			var game, platform, country string
			var v [4]int64
			if err := rows.Scan(&start, &game, &platform, &country, &v[0], &v[1], &v[2], &v[3]); err != nil {
				t.Fatal(err)
			}
			stored[strings.Join([]string{table, start.UTC().Format(time.RFC3339), game, platform, country}, "|")] = v
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	wrong := 0
	for key, v := range out.KPI {
		want := [4]int64{int64(v["version"].(float64)), int64(v["active_players"].(float64)), int64(v["purchases"].(float64)), int64(v["revenue_usd_micros"].(float64))}
		if got, ok := stored[key]; !ok || got != want {
			if wrong++; wrong <= 5 {
				t.Errorf("KPI row %s: %v in the warehouse (present %v), want version, active players, purchases, revenue %v", key, got, ok, want)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d KPI rows missing or not the processor's final row", wrong)
	}
	t.Logf("%d loader kills in %s; warehouse: %d events, %d sessions, %d dead letters, %d KPI rows", kills, took.Round(time.Second),
		count("SELECT count(*) FROM events"), count("SELECT count(*) FROM sessions"), dead, len(out.KPI))
}

// openWarehouse opens a --warehouse URL of the tests for reading.
func openWarehouse(url string) (warehouse.Warehouse, error) {
	if dsn, ok := strings.CutPrefix(url, "snowflake://"); ok {
		return snowflake.Open(dsn)
	}
	return duckdb.Open(strings.TrimPrefix(url, "duckdb://"))
}
