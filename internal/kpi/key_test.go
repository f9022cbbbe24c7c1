package kpi

import (
	"testing"
	"time"
)

func TestKeyString(t *testing.T) {
	tm := time.Date(2026, 11, 25, 18, 4, 59, 999, time.FixedZone("X", 3600))
	in := Input{Time: tm, Game: "g", Platform: "ios", Country: "DE"}
	detail, game := Keys(in)
	for _, tc := range []struct {
		k    Key
		want string
	}{
		{detail, "minute|2026-11-25T17:04:00Z|g|ios|DE"},
		{game, "minute|2026-11-25T17:04:00Z|g|*|*"},
		{detail.Hour(), "hour|2026-11-25T17:00:00Z|g|ios|DE"},
		{game.Hour().Hour(), "hour|2026-11-25T17:00:00Z|g|*|*"},
		{Key{Window: Minute, Start: tm.UTC().Truncate(time.Minute), Game: "a|b", Platform: "web", Country: "ZZ"}, "minute|2026-11-25T17:04:00Z|a|b|web|ZZ"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("String = %s, want %s", got, tc.want)
		}
		back, err := ParseKey(tc.want)
		if err != nil {
			t.Fatalf("ParseKey(%s): %v", tc.want, err)
		}
		if back != tc.k {
			t.Errorf("ParseKey(%s) = %#v, want %#v", tc.want, back, tc.k)
		}
	}
	if !game.GameLevel() || detail.GameLevel() {
		t.Error("GameLevel")
	}
	if got := detail.End(); !got.Equal(time.Date(2026, 11, 25, 17, 5, 0, 0, time.UTC)) {
		t.Errorf("End = %v", got)
	}
}

func TestParseKeyErrors(t *testing.T) {
	for _, s := range []string{
		"", "minute", "minute|2026-11-25T18:04:00Z|g|ios", "day|2026-11-25T18:04:00Z|g|ios|US",
		"minute|2026-11-25T18:04:30Z|g|ios|US", "hour|2026-11-25T18:04:00Z|g|ios|US",
		"minute|yesterday|g|ios|US", "minute|2026-11-25T18:04:00Z||ios|US", "minute|2026-11-25T18:04:00Z|g||US",
	} {
		if k, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) = %v, want an error", s, k)
		}
	}
}
