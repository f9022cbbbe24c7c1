package kpi

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkAdd is one event's contribution to a minute row with about 500
// active players (a sparse sketch), the per-event cost in stage 1.
func BenchmarkAdd(b *testing.B) {
	ins := randomInputs(rand.New(rand.NewPCG(1, 2)), 4096, 500)
	var a Aggregate
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Add(ins[i%len(ins)])
	}
}

// BenchmarkMerge merges a partial of a few events (a flush's delta) into a
// row, the per-partial cost in stage 2, for rows of several sizes.
func BenchmarkMerge(b *testing.B) {
	for _, players := range []int{100, 5_000, 100_000} {
		b.Run(fmt.Sprintf("row=%d/partial=20", players), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			row := &Aggregate{}
			for _, in := range randomInputs(r, 3*players, players) {
				row.Add(in)
			}
			partials := make([]*Aggregate, 64)
			for i := range partials {
				partials[i] = &Aggregate{}
				for _, in := range randomInputs(r, 20, players) {
					partials[i].Add(in)
				}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				row.Merge(partials[i%len(partials)])
			}
		})
	}
	b.Run("dense+dense", func(b *testing.B) { // an hour rollup of big minutes
		r := rand.New(rand.NewPCG(5, 6))
		x, y := &Aggregate{}, &Aggregate{}
		for _, in := range randomInputs(r, 60_000, 50_000) {
			x.Add(in)
			in.Player += "y"
			y.Add(in)
		}
		b.ReportAllocs()
		for b.Loop() {
			x.Merge(y)
		}
	})
}

// BenchmarkEncode is the changelog / partials encoding of a row.
func BenchmarkEncode(b *testing.B) {
	for _, players := range []int{100, 5_000} {
		b.Run(fmt.Sprintf("players=%d", players), func(b *testing.B) {
			a := &Aggregate{}
			for _, in := range randomInputs(rand.New(rand.NewPCG(1, 1)), 3*players, players) {
				a.Add(in)
			}
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = a.AppendEncode(buf[:0])
			}
			b.ReportMetric(float64(len(buf)), "bytes")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	a := &Aggregate{}
	for _, in := range randomInputs(rand.New(rand.NewPCG(1, 1)), 300, 100) {
		a.Add(in)
	}
	enc := a.Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergerMinute is stage 2's cost per partial with marks every 100
// partials, over 2 sources, 3 games × 40 detail rows.
func BenchmarkMergerMinute(b *testing.B) {
	m, err := NewMerger(MergerConfig{Sources: []int32{0, 1}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	t0 := testDay.Add(18 * time.Hour)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		in := Input{Time: now, Player: fmt.Sprintf("p%d", r.IntN(5000)), Game: fmt.Sprint("g", r.IntN(3)),
			Platform: fmt.Sprint("pl", r.IntN(4)), Country: fmt.Sprint("c", r.IntN(10)), Type: "login"}
		k, _ := Keys(in)
		a := &Aggregate{}
		a.Add(in)
		if _, err := m.AddPartial(int32(i%2), k, a); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			m.Mark(Mark{Source: 0, Watermark: now.Add(-2 * time.Minute)})
			m.Mark(Mark{Source: 1, Watermark: now.Add(-2 * time.Minute)})
		}
	}
}
