package warehouse_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

func TestDecodeEnriched(t *testing.T) {
	tests := []struct {
		name    string
		members map[string]string
		check   func(t *testing.T, r warehouse.EventRow)
		err     string // a substring of the error; "" for none
	}{
		{name: "as written", check: func(t *testing.T, r warehouse.EventRow) {
			if r.EventID != "e-1" || r.Seq != 3 || r.Platform != "ios" || r.Country != "DE" || r.RevenueUSDMicros != 5389200 ||
				!r.EventTime.Equal(time.Date(2026, 11, 25, 18, 4, 5, 123000000, time.UTC)) || !r.Payer || r.SessionCount != 2 {
				t.Errorf("row %+v", r)
			}
			if r.Payload != `{"sku":"gems_500","price":4.99,"currency":"EUR"}` || r.Extra != "" {
				t.Errorf("payload %s extra %q", r.Payload, r.Extra)
			}
		}},
		{name: "a field added to the schema later lands in extra", members: map[string]string{"ab_test_group": `"B"`, "device": `{"model":"iPhone15,2"}`},
			check: func(t *testing.T, r warehouse.EventRow) {
				if r.Extra != `{"ab_test_group":"B","device":{"model":"iPhone15,2"}}` {
					t.Errorf("extra %s", r.Extra)
				}
			}},
		{name: "a new field inside the payload stays in the payload", members: map[string]string{"purchase": `{"sku":"x","price":1,"bundle":true}`},
			check: func(t *testing.T, r warehouse.EventRow) {
				if r.Payload != `{"sku":"x","price":1,"bundle":true}` || r.Extra != "" {
					t.Errorf("payload %s extra %q", r.Payload, r.Extra)
				}
			}},
		{name: "numeric seq", members: map[string]string{"seq": `7`}, check: func(t *testing.T, r warehouse.EventRow) {
			if r.Seq != 7 {
				t.Errorf("seq %d", r.Seq)
			}
		}},
		{name: "type mismatch: seq", members: map[string]string{"seq": `"three"`}, err: "seq"},
		{name: "type mismatch: event_id", members: map[string]string{"event_id": `42`}, err: "event_id"},
		{name: "type mismatch: enrichment", members: map[string]string{"enrichment": `{"payer":"yes"}`}, err: "enrichment"},
		{name: "bad client_time", members: map[string]string{"client_time": `"yesterday"`}, err: "client_time"},
		{name: "no event_id", members: map[string]string{"event_id": ""}, err: "missing event_id"},
		{name: "no enrichment", members: map[string]string{"enrichment": ""}, err: "no enrichment"},
		{name: "too large for a VARIANT", members: map[string]string{"purchase": `{"sku":"` + strings.Repeat("x", warehouse.MaxValueBytes) + `"}`}, err: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := warehouse.DecodeEnriched([]byte(warehousetest.EnrichedJSON(tt.members)))
			if tt.err != "" {
				if err == nil || !errors.Is(err, warehouse.ErrDecode) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want ErrDecode naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
	if _, err := warehouse.DecodeEnriched([]byte(`[1]`)); !errors.Is(err, warehouse.ErrDecode) {
		t.Errorf("an array: %v", err)
	}
}
