package loader_test

import (
	"time"

	"github.com/gamepulse/gamepulse/internal/kpi"
)

type rowKey struct {
	window, game, platform, country string
	start                           time.Time
}

func kpiKey(s string) (rowKey, error) {
	k, err := kpi.ParseKey(s)
	if err != nil {
		return rowKey{}, err
	}
	return rowKey{window: string(k.Window), game: k.Game, platform: k.Platform, country: k.Country, start: k.Start}, nil
}
