//go:build integration

package snowflake_test

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/gamepulse/gamepulse/internal/report/reporttest"
	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/snowflake"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

// The fakesnow server to test against: the address scripts/fakesnow.sh
// start prints. Required in the integration run.
const fakesnowEnv = "GAMEPULSE_TEST_FAKESNOW"

var fakesnowDBs atomic.Int64

// openFakesnow returns a Snowflake sink on a new, empty database of the
// fakesnow server (the server creates the database it is logged into).
func openFakesnow(tb testing.TB) *snowflake.Warehouse {
	tb.Helper()
	addr := os.Getenv(fakesnowEnv)
	if addr == "" {
		tb.Fatalf("%s is not set: start a server with scripts/fakesnow.sh start DIR and set it to the address it prints", fakesnowEnv)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("%s=%q: %v", fakesnowEnv, addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		tb.Fatalf("%s=%q: %v", fakesnowEnv, addr, err)
	}
	db := fmt.Sprintf("T%d_%d_%s", time.Now().UnixNano(), fakesnowDBs.Add(1),
		strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, tb.Name()))
	dsn, err := sf.DSN(&sf.Config{
		Account: "fakesnow", User: "gamepulse", Password: "any",
		Protocol: "http", Host: host, Port: p,
		Database: db, Schema: "PUBLIC",
		// fakesnow answers SQL it cannot run with HTTP 500, which
		// gosnowflake retries for ~30 s by default: fail fast instead.
		MaxRetryCount: 1,
	})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := snowflake.Open(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	// fakesnow has no DROP DATABASE; its databases live in memory and go
	// with the server.
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestSnowflakeSink(t *testing.T) {
	warehousetest.Run(t, func(t *testing.T) warehouse.Sink { return openFakesnow(t) })
}

func TestSnowflakeSummaries(t *testing.T) {
	reporttest.Summaries(t, openFakesnow(t))
}

func TestSnowflakeReconcile(t *testing.T) {
	reporttest.Reconcile(t, openFakesnow(t))
}

// BenchmarkSnowflakeApplyEvents measures rows/s of events batches into the
// fakesnow emulator: a figure about the emulator and this sink's SQL, not
// about Snowflake.
func BenchmarkSnowflakeApplyEvents(b *testing.B) {
	warehousetest.BenchApply(b, openFakesnow(b), 50_000, nil)
}

// TestSnowflakeUsage: the sink counts the statements, transactions and
// bytes it sends, the drivers of Snowflake's cloud-services cost.
func TestSnowflakeUsage(t *testing.T) {
	s := openFakesnow(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := s.Usage()
	b := warehousetest.Events(0, 0, 1000)
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	u := s.Usage()
	// BEGIN, the offsets lock, the offsets read, one events INSERT, the
	// offsets DELETE and INSERT, COMMIT.
	if st := u.Statements - before.Statements; st != 7 {
		t.Errorf("%d statements for one batch of events, want 7", st)
	}
	if u.Transactions-before.Transactions != 1 {
		t.Errorf("transactions %d → %d, want one more", before.Transactions, u.Transactions)
	}
	if sent := u.SentBytes - before.SentBytes; sent < 1000*200 {
		t.Errorf("%d bytes sent for 1,000 events, want at least 200 per event", sent)
	}
}
