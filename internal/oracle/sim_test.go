package oracle

import (
	"bytes"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/simulate"
)

// simRates covers the simulator's storefront currencies.
var simRates = map[string]float64{"USD": 1, "EUR": 1.08, "GBP": 1.27, "BRL": 0.2, "JPY": 0.0067}

// simConfig is a small population with every fault.
func simConfig(seed int64) simulate.Config {
	return simulate.Config{Seed: seed, Start: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Rate: 200,
		Players: 5000, Duplicates: 0.02, Late: 0.02, Malformed: 0.01, LateDelay: 5 * time.Minute}
}

// simNDJSON returns n simulated items as the FileSink writes them.
func simNDJSON(t testing.TB, n int, seed int64) []byte {
	t.Helper()
	g, err := simulate.New(simConfig(seed))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sink := simulate.NewFileSink(&buf)
	items := make([]simulate.Item, 0, 1000)
	for i := 0; i < n; i++ {
		items = append(items, g.Next())
		if len(items) == cap(items) || i == n-1 {
			if _, _, err := sink.Send(t.Context(), items); err != nil {
				t.Fatal(err)
			}
			items = items[:0]
		}
	}
	return buf.Bytes()
}

// generate returns n simulated items as records, through NDJSON.
func generate(t testing.TB, n int, seed int64) []Record {
	t.Helper()
	recs, err := ReadNDJSON(bytes.NewReader(simNDJSON(t, n, seed)), received)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records from %d items", len(recs), n)
	}
	return recs
}
