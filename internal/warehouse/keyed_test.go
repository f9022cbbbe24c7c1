package warehouse_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

func TestFirstByKey(t *testing.T) {
	ev := func(id string, off int64) warehouse.EventRow {
		e := warehousetest.Event(0, off)
		e.EventID = id
		return e
	}
	t0 := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	dl := func(topic string, part int32, off, at int64) warehouse.DeadLetterRow {
		return warehouse.DeadLetterRow{SourceTopic: topic, SourcePartition: part, SourceOffset: off, Pos: warehouse.Position{Offset: at}}
	}
	k := warehouse.KeyedRows{
		Events: []warehouse.EventRow{ev("a", 0), ev("b", 1), ev("a", 2), ev("c", 3), ev("b", 4)},
		Sessions: []warehouse.SessionRow{
			{SessionID: "s", Start: t0, Pos: warehouse.Position{Offset: 0}},
			{SessionID: "s", Start: t0.Add(time.Hour), Pos: warehouse.Position{Offset: 1}}, // split by a gap: another key
			{SessionID: "s", Start: t0, Pos: warehouse.Position{Offset: 2}},
		},
		Alerts: []warehouse.AlertRow{
			{Rule: "r", Subject: "p", WindowStart: t0, Pos: warehouse.Position{Offset: 0}},
			{Rule: "r", Subject: "q", WindowStart: t0, Pos: warehouse.Position{Offset: 1}},
			{Rule: "r", Subject: "p", WindowStart: t0.Add(time.Minute), Pos: warehouse.Position{Offset: 2}},
			{Rule: "r", Subject: "p", WindowStart: t0, Pos: warehouse.Position{Offset: 3}},
		},
		DeadLetters: []warehouse.DeadLetterRow{
			dl("raw", 0, 5, 0), dl("", -1, -1, 1), dl("raw", 1, 5, 2), dl("raw", 0, 5, 3), dl("", -1, -1, 4), dl("raw", 0, -1, 5),
		},
	}
	got := k.FirstByKey()
	offsets := func(n int, pos func(i int) int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = pos(i)
		}
		return out
	}
	for _, c := range []struct {
		table     string
		got, want []int64
	}{
		{"events", offsets(len(got.Events), func(i int) int64 { return got.Events[i].Pos.Offset }), []int64{0, 1, 3}},
		{"sessions", offsets(len(got.Sessions), func(i int) int64 { return got.Sessions[i].Pos.Offset }), []int64{0, 1}},
		{"alerts", offsets(len(got.Alerts), func(i int) int64 { return got.Alerts[i].Pos.Offset }), []int64{0, 1, 2}},
		// a dead letter whose source is unknown has no key: every one stays
		{"dead_letters", offsets(len(got.DeadLetters), func(i int) int64 { return got.DeadLetters[i].Pos.Offset }), []int64{0, 1, 2, 4, 5}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: kept the rows at offsets %v, want %v", c.table, c.got, c.want)
		}
	}
	// No copies: the very slice, not a copy of it.
	unique := warehouse.KeyedRows{Events: warehousetest.Events(0, 0, 5).Events}
	if got := unique.FirstByKey(); &got.Events[0] != &unique.Events[0] || len(got.Events) != 5 {
		t.Error("FirstByKey copied a slice without repeated keys")
	}
}

func TestSpan(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	at := func(r *time.Time) time.Time { return *r }
	for _, c := range []struct {
		times  []time.Time
		lo, hi time.Time
	}{
		{nil, time.Time{}, time.Time{}},
		{[]time.Time{t0}, t0, t0},
		{[]time.Time{t0.Add(time.Second), t0, t0.Add(-time.Hour), t0.Add(time.Minute)}, t0.Add(-time.Hour), t0.Add(time.Minute)},
	} {
		if lo, hi := warehouse.Span(c.times, at); !lo.Equal(c.lo) || !hi.Equal(c.hi) {
			t.Errorf("Span(%v) = %v, %v; want %v, %v", c.times, lo, hi, c.lo, c.hi)
		}
	}
}

// The at-least-once rows follow the batch's offset rules like any other.
func TestBatchAtLeastOnceRowsByOffset(t *testing.T) {
	b := warehousetest.AtLeastOnce(0)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Rows(), 10+2+2+3+1+1; got != want {
		t.Errorf("Rows() = %d, want %d", got, want)
	}
	stored := map[warehouse.TopicPartition]int64{{Topic: warehousetest.TopicEvents}: 6, {Topic: "gamepulse.sessions"}: 2}
	nb := b.Since(stored)
	if n := len(nb.AtLeastOnce.Events); n != 4 || nb.AtLeastOnce.Events[0].Pos.Offset != 6 {
		t.Errorf("Since kept %d events from offset %d, want 4 from 6", n, nb.AtLeastOnce.Events[0].Pos.Offset)
	}
	if n := len(nb.AtLeastOnce.Sessions); n != 0 {
		t.Errorf("Since kept %d sessions below the stored offset", n)
	}
	if n := len(nb.AtLeastOnce.Alerts) + len(nb.AtLeastOnce.DeadLetters); n != 5 {
		t.Errorf("Since kept %d alerts and dead letters, want all 5", n)
	}
	b.AtLeastOnce.Alerts[1].Pos.Offset = 7 // beyond the alerts' next offset 2
	if err := b.Validate(); !errors.Is(err, warehouse.ErrInvalidBatch) {
		t.Errorf("Validate of an at-least-once row beyond its offsets: %v, want ErrInvalidBatch", err)
	}
}
