package jobs

import (
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// benchEvents yields binary-encoded generated events in chunks, made with
// the timer stopped: 10,000 players, ~10 ms of event time apart, with the
// generator's duplicates, replays, gaps and disorder.
type benchEvents struct {
	g      *gen
	chunk  [][]byte
	events []*event.Event // decoded, for the stage-only benchmark
	i      int
}

func newBenchEvents() *benchEvents { return &benchEvents{g: newGen(1, 10000, 10)} }

// nextEvent is next, decoded (outside the timer).
func (s *benchEvents) nextEvent(b *testing.B) *event.Event {
	if s.i == len(s.events) {
		b.StopTimer()
		s.events = s.events[:0]
		for range 4096 {
			v, err := event.Marshal(s.g.next())
			if err != nil {
				b.Fatal(err)
			}
			e, err := event.Unmarshal(v)
			if err != nil {
				b.Fatal(err)
			}
			s.events = append(s.events, e)
		}
		s.i = 0
		b.StartTimer()
	}
	e := s.events[s.i]
	s.i++
	return e
}

func (s *benchEvents) next(b *testing.B) []byte {
	if s.i == len(s.chunk) {
		b.StopTimer()
		s.chunk = s.chunk[:0]
		for range 4096 {
			v, err := event.Marshal(s.g.next())
			if err != nil {
				b.Fatal(err)
			}
			s.chunk = append(s.chunk, v)
		}
		s.i = 0
		b.StartTimer()
	}
	v := s.chunk[s.i]
	s.i++
	return v
}

// BenchmarkStage is the full stage-1 chain per event: decode → validate →
// ledger → dedup → enrich → sessionize → late rule → KPI partials → fraud
// rule → watermark closes, with, every 1000 events (one transaction), what
// the engine does then: Changes (encode the state changes), DrainLedger and
// DrainPartials. (Before the late rule and the partials moved into jobs,
// their cost was stage 1's task's, outside this benchmark.) "decoded" is the same
// on events decoded outside the timer; "nochangelog" skips Changes (the
// dirty lists grow without bound: a measurement aid only). The tables only
// grow in these (2M events are 5.5 h of event time, less than the 24 h
// horizon); "steady" uses a 1 h horizon, so that after the first hour expiry
// balances inserts (360k ids), as in a processor that has run a day.
func BenchmarkStage(b *testing.B) {
	for _, tc := range []struct {
		name               string
		changelog, decoded bool
		horizon            time.Duration
	}{
		{"process", true, false, 0},
		{"decoded", true, true, 0},
		{"decoded-nochangelog", false, true, 0},
		{"process-steady", true, false, time.Hour},
		{"decoded-steady", true, true, time.Hour},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := NewStage(Config{DedupHorizon: tc.horizon})
			if err != nil {
				b.Fatal(err)
			}
			src := newBenchEvents()
			var res Result
			var rows []LedgerCount
			var partials []Partial
			records := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if tc.decoded {
					st.ProcessEvent(src.nextEvent(b), &res)
				} else {
					st.Process(src.next(b), record.EncodingProtobuf, &res)
				}
				if i%1000 == 999 {
					if tc.changelog {
						st.Changes(func(_ string, k, v []byte) { records++ })
					}
					rows = st.DrainLedger(rows[:0])
					partials = st.DrainPartials(partials[:0]) // once per transaction, as the pipeline does
				}
			}
			if tc.changelog {
				b.ReportMetric(float64(records)/float64(b.N), "changelog-recs/event")
			}
		})
	}
}

// BenchmarkDecode is the Protobuf decoding alone, for comparison.
func BenchmarkDecode(b *testing.B) {
	src := newBenchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := event.Unmarshal(src.next(b)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnrichedJSON is the output encoding of an enriched event.
func BenchmarkEnrichedJSON(b *testing.B) {
	st, _ := NewStage(Config{})
	g := newGen(1, 100, 10)
	var res Result
	for !res.Accepted() || res.Event.GetPurchase() == nil {
		st.ProcessEvent(g.next(), &res)
	}
	x := res.Enriched
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = x.AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizePlatform(b *testing.B) {
	for i := 0; i < b.N; i++ {
		NormalizePlatform("iPhone")
	}
}
