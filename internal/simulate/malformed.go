package simulate

import (
	"bytes"
	"strconv"

	"github.com/gamepulse/gamepulse/internal/event"
)

// A malformed item is built from a plausible event of a made-up session (a
// fresh session_id, so that it can never collide with the seq of a real
// session even if a receiver lets it through) and then broken in one of the
// ways below. Every one stays a single line whose brackets and quotes
// balance: a receiver that splits a JSON array or NDJSON body can refuse it
// alone. Truncated bodies, which take a whole batch down, are not generated.
var faults = []struct {
	name   string
	weight float64
	make   func(g *Generator, ev *event.Event) (raw []byte, keep bool, code string)
}{
	// Not JSON at all (but balanced): an unquoted key.
	{"unquoted_key", 1, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		return bytes.Replace(jsonOf(ev), []byte(`"event_id"`), []byte(`event_id`), 1), false, event.CodeMalformed
	}},
	// A trailing comma.
	{"trailing_comma", 1, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		b := jsonOf(ev)
		return append(b[:len(b)-1], ",}"...), false, event.CodeMalformed
	}},
	// JSON, but a field of the wrong type.
	{"wrong_type", 1, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		ev.Seq = 0
		b := jsonOf(ev)
		return append([]byte(`{"seq":"three",`), b[1:]...), false, event.CodeMalformed
	}},
	// JSON, but not an object.
	{"not_object", 0.5, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		switch g.frng.IntN(3) {
		case 0:
			return []byte(`["` + ev.EventType + `","` + ev.PlayerId + `"]`), false, event.CodeNotObject
		case 1:
			return []byte(strconv.Quote(ev.EventType)), false, event.CodeNotObject
		}
		return []byte("null"), false, event.CodeNotObject
	}},
	// A required field missing.
	{"missing_field", 2, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		switch g.frng.IntN(5) {
		case 0:
			ev.EventId = ""
		case 1:
			ev.PlayerId = ""
		case 2:
			ev.ClientTime = nil
		case 3:
			ev.SessionId = ""
		default:
			ev.Seq = 0
		}
		return jsonOf(ev), true, event.CodeMissingField
	}},
	// An event type this schema version does not know.
	{"unknown_type", 1.5, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		ev.EventType = []string{"teleport", "level_up", "Purchase", "session-start", "achievement"}[g.frng.IntN(5)]
		return jsonOf(ev), true, event.CodeUnknownType
	}},
	// A negative or zero price.
	{"bad_price", 1.5, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		p := ev.GetPurchase()
		if p == nil {
			p = g.fakePurchase(ev)
		}
		p.Price = []float64{-p.Price, 0}[g.frng.IntN(2)]
		return jsonOf(ev), true, event.CodeInvalidValue
	}},
	// A currency that is not an ISO 4217 code.
	{"bad_currency", 0.5, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		p := ev.GetPurchase()
		if p == nil {
			p = g.fakePurchase(ev)
		}
		p.Currency = []string{"EURO", "dollars", "$", "R$"}[g.frng.IntN(4)]
		return jsonOf(ev), true, event.CodeInvalidValue
	}},
	// A country that is not an ISO 3166-1 alpha-2 code.
	{"bad_country", 0.5, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		ev.Country = []string{"Germany", "USA", "D", "1"}[g.frng.IntN(4)]
		return jsonOf(ev), true, event.CodeInvalidValue
	}},
	// The payload does not match event_type.
	{"payload_mismatch", 0.5, func(g *Generator, ev *event.Event) ([]byte, bool, string) {
		if ev.EventType == event.TypeLevelComplete {
			ev.EventType = event.TypeLevelFail
		} else {
			ev.EventType = event.TypeLevelComplete
		}
		return jsonOf(ev), true, event.CodePayloadMismatch
	}},
}

var faultCum = func() []float64 {
	var cum []float64
	s := 0.0
	for _, f := range faults {
		s += f.weight
		cum = append(cum, s)
	}
	return cum
}()

func jsonOf(ev *event.Event) []byte {
	b, err := event.MarshalJSON(ev)
	if err != nil {
		panic("simulate: cannot encode an event as JSON: " + err.Error()) // never for the events built here
	}
	return b
}

// malformed builds a broken item from the fault stream: it neither reads nor
// changes the state of the model, so it cannot disturb a real session.
func (g *Generator) malformed() Item {
	r := g.frng
	gs := g.games[pickCum(r, g.gameCum)]
	idx := uint32(r.IntN(gs.base))
	p := g.derive(gs, idx)
	plat := &platforms[gs.platIdx[p.platform]]
	c := &countries[p.country]
	dev := plat.devices[p.device]
	ev := &event.Event{
		SchemaVersion: event.SchemaVersion,
		EventId:       uuid(r),
		GameId:        gs.ID,
		PlayerId:      g.playerID(gs.idx, idx),
		SessionId:     uuid(r),
		Seq:           uint64(1 + r.IntN(40)),
		ClientTime:    timestamp(g.now),
		Platform:      plat.name,
		AppVersion:    gs.Versions[p.version],
		AppBuild:      gs.builds[p.version][p.platform],
		Country:       c.code,
		Device:        &event.Device{Model: dev.model, OsVersion: dev.os, Locale: c.locale},
	}
	if r.IntN(2) == 0 {
		g.fakePurchase(ev)
	} else {
		ev.EventType = event.TypeLevelComplete
		ev.Payload = &event.Event_LevelComplete{LevelComplete: &event.Level{
			Level: p.level, DurationMs: 20000 + r.Int64N(100000), Score: 500 + r.Int64N(2000),
		}}
	}
	f := faults[pickCum(r, faultCum)]
	raw, keep, code := f.make(g, ev)
	it := Item{Kind: KindMalformed, Raw: raw, Game: gs.ID, Code: code}
	if keep {
		it.Event = ev
	}
	return it
}

func (g *Generator) fakePurchase(ev *event.Event) *event.Purchase {
	r := g.frng
	tier := pickCum(r, tierCum)
	cur := []string{"USD", "EUR", "GBP", "BRL", "JPY"}[r.IntN(5)]
	p := &event.Purchase{
		Sku: "gems_" + strconv.FormatInt(tierGems[tier], 10), Price: prices[cur][tier], Currency: cur,
		Store: "app_store", StoreTransactionId: storeTransactionID(r, "app_store"),
	}
	ev.EventType = event.TypePurchase
	ev.Payload = &event.Event_Purchase{Purchase: p}
	return p
}
