package engine

import (
	"flag"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: from the clock)")

func TestWatermarkConfig(t *testing.T) {
	var c WatermarkConfig
	c.EnsureDefaults()
	if c != DefaultWatermarkConfig() || c.AllowedLateness != 2*time.Minute || c.IdleTimeout != 30*time.Second {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []WatermarkConfig{{AllowedLateness: -1, IdleTimeout: 1}, {IdleTimeout: -1}, {}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

func TestAssignNegativePartitionPanics(t *testing.T) {
	w, _ := NewWatermarks(WatermarkConfig{})
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	w.Assign(-1, time.Time{})
}

// TestWatermarksRandom drives a tracker with random assignments, revocations,
// records and wall-clock steps, and checks the contract after every flush:
// the combined watermark never decreases; when it rises, it rises to the
// watermark of a partition that is not idle, and no such partition is below
// it; an assigned partition's effective watermark never decreases.
func TestWatermarksRandom(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^1))
	const parts = 6
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for round := range 50 {
		w, err := NewWatermarks(WatermarkConfig{AllowedLateness: time.Duration(rng.IntN(5)) * time.Minute, IdleTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		now := wallEpoch
		var prev time.Time
		prevEff := map[int32]time.Time{}
		for step := range 300 {
			p := int32(rng.IntN(parts))
			switch r := rng.IntN(20); {
			case r == 0:
				w.Assign(p, now)
			case r == 1:
				w.Revoke(p)
				delete(prevEff, p)
			case r < 4:
				now = now.Add(time.Duration(rng.IntN(40)) * time.Second)
			default:
				// Event times wander around a clock that moves forward.
				et := base.Add(time.Duration(step)*5*time.Second + time.Duration(rng.IntN(600)-400)*time.Second)
				w.Observe(p, et, now)
			}
			c := w.Combined(now)
			if c.Before(prev) {
				t.Fatalf("round %d step %d: combined went back from %v to %v", round, step, prev, c)
			}
			if c.After(prev) {
				found := false
				for _, q := range w.Partitions() {
					pw, _ := w.Partition(q, now)
					if pw.Idle {
						continue
					}
					if pw.MaxEventTime.IsZero() || pw.Watermark.Before(c) {
						t.Fatalf("round %d step %d: combined rose to %v past active partition %d at %v", round, step, c, q, pw.Watermark)
					}
					found = found || pw.Watermark.Equal(c)
				}
				if !found {
					t.Fatalf("round %d step %d: combined %v is no active partition's watermark", round, step, c)
				}
			}
			for _, q := range w.Partitions() {
				pw, _ := w.Partition(q, now)
				if pw.Effective.Before(prevEff[q]) {
					t.Fatalf("round %d step %d: partition %d effective went back", round, step, q)
				}
				if pw.Effective.Before(c) || pw.Effective.Before(pw.Watermark) {
					t.Fatalf("round %d step %d: partition %d effective %v below %v or %v", round, step, q, pw.Effective, c, pw.Watermark)
				}
				prevEff[q] = pw.Effective
			}
			if !w.Current().Equal(c) {
				t.Fatalf("Current %v, Combined %v", w.Current(), c)
			}
			prev = c
		}
	}
}

// TestObserveConcurrent runs Observe for distinct partitions in parallel, as
// the engine does; run with -race.
func TestObserveConcurrent(t *testing.T) {
	w, err := NewWatermarks(WatermarkConfig{AllowedLateness: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const parts = 8
	for p := range int32(parts) {
		w.Assign(p, wallEpoch)
	}
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for p := range int32(parts) {
		wg.Go(func() {
			for i := range 1000 {
				w.Observe(p, base.Add(time.Duration(i+int(p))*time.Second), wallEpoch.Add(time.Second))
			}
		})
	}
	wg.Wait()
	if got, want := w.Combined(wallEpoch.Add(time.Second)), base.Add(999*time.Second-time.Minute); !got.Equal(want) {
		t.Errorf("combined %v, want %v", got, want)
	}
}
