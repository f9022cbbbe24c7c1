package jobs

import (
	"fmt"
	"time"
)

type fraudKey struct {
	game, player string
	window       int64
}

type fraudEntry struct {
	n     int64
	dirty bool
}

// fraudTable counts accepted purchases per (player, minute window) for the
// per-player fraud rule (rule 8).
type fraudTable struct {
	m     map[fraudKey]*fraudEntry
	exp   buckets[fraudKey]
	dirty []fraudKey
}

// purchase counts one purchase at event time t; it returns true when the
// count has just exceeded max (once per window).
func (f *fraudTable) purchase(game, player string, t int64, max int64) (int64, bool) {
	k := fraudKey{game, player, windowOf(t)}
	e := f.m[k]
	if e == nil {
		e = &fraudEntry{}
		f.m[k] = e
		f.exp.add(k.window, k)
	}
	e.n++
	if !e.dirty {
		e.dirty = true
		f.dirty = append(f.dirty, k)
	}
	return e.n, e.n == max+1
}

// expire forgets the windows that end at or before cutoff.
func (f *fraudTable) expire(cutoff int64) {
	f.exp.expire(cutoff, func(k fraudKey) {
		if e := f.m[k]; e != nil && k.window+minuteMs <= cutoff {
			delete(f.m, k)
			if !e.dirty {
				f.dirty = append(f.dirty, k)
			}
		}
	})
}

func purchaseAlert(game, player string, window int64, observed, max int64) Alert {
	w := time.UnixMilli(window).UTC()
	return Alert{
		Rule:      RulePlayerPurchases,
		Subject:   player,
		GameID:    game,
		Start:     w,
		End:       w.Add(time.Minute),
		Observed:  float64(observed),
		Threshold: float64(max),
		Message: fmt.Sprintf("player %s of game %s made %d purchases in the minute from %s (more than %d)",
			player, game, observed, w.Format(time.RFC3339), max),
	}
}
