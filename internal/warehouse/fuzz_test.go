package warehouse_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Seeds are in testdata/fuzz/<FuzzName>/. The decoders must never panic,
// and a decoded row's JSON columns must be valid JSON.

func FuzzDecodeEnriched(f *testing.F) {
	f.Add([]byte(`{"event_id":"e-1","event_type":"purchase","game_id":"g","player_id":"p","session_id":"s","seq":"12","client_time":"2026-11-25T18:04:05.123456Z","platform":"iOS","country":"de","device":{"model":"x"},"purchase":{"sku":"gems","price":4.99},"enrichment":{"platform_norm":"ios","country_norm":"DE","revenue_usd_micros":5390000,"first_seen":"2026-11-25T18:00:00Z","days_since_install":0,"lifetime_spend_usd_micros":5390000,"payer":true,"session_count":1,"new_player":false}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := warehouse.DecodeEnriched(v)
		if err != nil {
			return
		}
		if !json.Valid([]byte(r.Payload)) || (r.Extra != "" && !json.Valid([]byte(r.Extra))) || r.EventID == "" {
			t.Fatalf("bad row %+v", r)
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte(`{"session_id":"s","player_id":"p","game_id":"g","platform":"ios","country":"DE","start":"2026-11-25T18:00:00Z","end":"2026-11-25T18:10:00Z","duration_ms":600000,"events":9,"revenue_usd_micros":0,"levels_played":2,"closed_by":"gap"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		if r, err := warehouse.DecodeSession(v); err == nil && r.SessionID == "" {
			t.Fatalf("bad row %+v", r)
		}
	})
}

func FuzzDecodeKPI(f *testing.F) {
	f.Add([]byte("minute|2026-11-25T18:04:00Z|g|*|*"), []byte(`{"key":"minute|2026-11-25T18:04:00Z|g|*|*","window":"minute","start":"2026-11-25T18:04:00Z","end":"2026-11-25T18:05:00Z","game":"g","platform":"*","country":"*","active_players":3,"payers":1,"levels":[{"level":1,"starts":2,"completions":1,"fails":1}],"final":true,"version":2,"watermark":"2026-11-25T18:07:00Z"}`))
	f.Add([]byte("completeness|minute|2026-11-25T18:04:00Z|g|ios|b1"), []byte(`{"key":"completeness|minute|2026-11-25T18:04:00Z|g|ios|b1","window":"minute","start":"2026-11-25T18:04:00Z","game":"g","platform":"ios","app_build":"b1","gaps":-1,"duplicates":2,"out_of_order":0}`))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		kpi, comp, err := warehouse.DecodeKPI(k, v)
		if err != nil {
			if kpi != nil || comp != nil {
				t.Fatal("rows with an error")
			}
			return
		}
		if (kpi == nil) == (comp == nil) {
			t.Fatalf("want exactly one row: %v %v", kpi, comp)
		}
		if kpi != nil && (kpi.Window != warehouse.Minute && kpi.Window != warehouse.Hour || !bytes.HasPrefix(k, []byte(kpi.Window))) {
			t.Fatalf("window %q for key %q", kpi.Window, k)
		}
	})
}

func FuzzDecodeAlert(f *testing.F) {
	f.Add([]byte(`{"rule":"player_purchases_per_minute","subject":"p-1","game_id":"g","window":"2026-11-25T18:04:00Z","observed":12,"baseline":0,"threshold":10,"message":"m"}`))
	f.Add([]byte(`{"rule":"revenue_drop","subject":"g","window":"2026-11-25T18:04:00Z/2026-11-25T18:05:00Z","observed":1,"baseline":9,"threshold":4.5,"message":"m"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		if r, err := warehouse.DecodeAlert(v); err == nil && r.Rule == "" {
			t.Fatalf("bad row %+v", r)
		}
	})
}

func FuzzDecodeDeadLetter(f *testing.F) {
	f.Add([]byte("{not json"), "bad_json", "unexpected end", "gamepulse.events.raw", "3", "1234")
	f.Fuzz(func(t *testing.T, v []byte, code, reason, topic, part, off string) {
		h := []warehouse.Header{{Key: "code", Value: []byte(code)}, {Key: "reason", Value: []byte(reason)},
			{Key: "source_topic", Value: []byte(topic)}, {Key: "source_partition", Value: []byte(part)}, {Key: "source_offset", Value: []byte(off)}}
		r, err := warehouse.DecodeDeadLetter(v, h)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Original, v) || r.Code != code || r.SourcePartition < 0 || r.SourceOffset < 0 {
			t.Fatalf("bad row %+v", r)
		}
	})
}
