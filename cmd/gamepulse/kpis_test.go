package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	whreport "github.com/gamepulse/gamepulse/internal/report"
	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

// levelsWarehouse returns a warehouse whose game played level 3 twelve
// times without a fail and level 4 ten times with two, and closed no
// session.
func levelsWarehouse(t *testing.T) string {
	t.Helper()
	var b warehouse.Batch
	add := func(typ string, level int) {
		e := warehousetest.Event(0, int64(len(b.Events)))
		e.EventType, e.RevenueUSDMicros, e.Payload = typ, 0, fmt.Sprintf(`{"level":%d}`, level)
		b.Events = append(b.Events, e)
	}
	for range 12 {
		add("level_start", 3)
	}
	for range 10 {
		add("level_start", 4)
	}
	add("level_fail", 4)
	add("level_fail", 4)
	b.Offsets = []warehouse.Offset{{Topic: warehousetest.TopicEvents, Partition: 0, Next: int64(len(b.Events))}}
	return warehouseFile(t, b)
}

func TestKPIsLeavesOutLevelsNobodyFailed(t *testing.T) {
	out, _, err := runMain(t, nil, "kpis", "--warehouse", "duckdb:"+levelsWarehouse(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "hardest levels: 4 (20% of 10)\n") {
		t.Errorf("want level 4 alone among the hardest levels:\n%s", out)
	}
}

func TestKPIsSaysNAForAGameWithoutClosedSessions(t *testing.T) {
	out, _, err := runMain(t, nil, "kpis", "--warehouse", "duckdb:"+levelsWarehouse(t))
	if err != nil {
		t.Fatal(err)
	}
	row := strings.Split(out, "\n")[1]
	if !strings.HasPrefix(row, "gem-garden") || !strings.HasSuffix(strings.TrimSpace(row), "n/a") || strings.Contains(row, " 0 s") {
		t.Errorf("want the average session n/a:\n%s", out)
	}
}

func TestKPIsPrintsQuerysFormats(t *testing.T) {
	wh := "duckdb:" + levelsWarehouse(t)
	out, _, err := runMain(t, nil, "kpis", "--warehouse", wh, "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	got := map[string]string{}
	for i, c := range recs[0] {
		got[c] = recs[1][i]
	}
	for c, want := range map[string]string{"game_id": "gem-garden", "avg_session_s": "-1",
		"hardest_levels": `[{"level":4,"starts":10,"fails":2,"fail_rate":0.2}]`} {
		if got[c] != want {
			t.Errorf("csv %s = %q, want %q", c, got[c], want)
		}
	}
	out, _, err = runMain(t, nil, "kpis", "--warehouse", wh, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var sums []whreport.GameSummary
	if err := json.Unmarshal([]byte(out), &sums); err != nil || len(sums) != 1 || sums[0].Game != "gem-garden" || len(sums[0].HardLevels) != 1 {
		t.Errorf("json: %v %+v\n%s", err, sums, out)
	}
}

func TestUnknownFormatNamesTheAcceptedOnes(t *testing.T) {
	for _, args := range [][]string{{"query", "SELECT 1"}, {"kpis"}} {
		dir := filepath.Join(t.TempDir(), "w")
		cmd := append([]string{args[0], "--format", "xml", "--warehouse", "duckdb:" + filepath.Join(dir, "x.duckdb")}, args[1:]...)
		_, _, err := runMain(t, nil, cmd...)
		if err == nil || !strings.Contains(err.Error(), "table, csv or json") {
			t.Errorf("%s: got %v, want the accepted formats named", args[0], err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s opened the warehouse before refusing the format", args[0])
		}
	}
}
