package gateway

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/record"
)

// TestRawEncodingsDecodeToEqualEvents posts the same events in every body
// format to a gateway writing each raw encoding: every record names its
// encoding in the content-type header, a JSON record is the event's JSON
// form (event.AppendJSON) with the server's fields, and the processor's
// decoder (jobs.Validator.Decode, by the header) reads the same events from
// both encodings.
func TestRawEncodingsDecodeToEqualEvents(t *testing.T) {
	received := time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.UTC)
	evs := []*event.Event{goodEvent(1), goodEvent(2), goodEvent(3)}
	evs[1].EventType, evs[1].Payload = event.TypePurchase, &event.Event_Purchase{Purchase: &event.Purchase{
		Sku: "gems \u00e9\"\\", Price: 4.99, Currency: "EUR", Store: "app_store", StoreTransactionId: "T-1"}}
	evs[2].SchemaVersion = 1
	var jsonParts []string
	for _, e := range evs {
		e.ClientTime = timestamppb.New(received.Add(-5 * time.Second))
		b, err := event.MarshalJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		jsonParts = append(jsonParts, string(b))
	}
	pb, _ := proto.Marshal(&event.EventBatch{Events: evs})
	bodies := []struct {
		format string
		body   []byte
		ct     string
	}{
		{"json", []byte("[" + strings.Join(jsonParts, ",") + "]"), "application/json"},
		{"ndjson", []byte(strings.Join(jsonParts, "\n")), "application/x-ndjson"},
		{"protobuf", pb, "application/x-protobuf"},
	}
	val := jobs.NewValidator(nil)
	decoded := map[record.Encoding][]*event.Event{}
	for _, enc := range []record.Encoding{record.EncodingProtobuf, record.EncodingJSON} {
		h := newHarness(t, func(c *Config) { c.RawEncoding = enc })
		h.gw.now = func() time.Time { return received }
		for _, b := range bodies {
			if r := h.post(b.body, map[string]string{"Content-Type": b.ct}); r.status != 200 || r.Accepted != len(evs) {
				t.Fatalf("%s body, %s records: got %+v", b.format, enc, r)
			}
		}
		recs := h.stored()
		if len(recs) != len(evs)*len(bodies) {
			t.Fatalf("%s: stored %d records, want %d", enc, len(recs), len(evs)*len(bodies))
		}
		for _, rec := range recs {
			if len(rec.Headers) != 1 || rec.Headers[0].Key != record.HeaderContentType || string(rec.Headers[0].Value) != enc.ContentType() {
				t.Fatalf("%s: headers %v, want content-type %s", enc, rec.Headers, enc.ContentType())
			}
			if got := record.RawEncoding(rec.Headers); got != enc {
				t.Fatalf("RawEncoding = %s, want %s", got, enc)
			}
			e, dl := val.Decode(rec.Value, record.RawEncoding(rec.Headers))
			if dl != nil {
				t.Fatalf("%s record %q: dead letter %v", enc, rec.Value, dl)
			}
			if e.GameId != "game-a" || !e.ReceivedAt.AsTime().Equal(received) || e.SchemaVersion != event.SchemaVersion {
				t.Fatalf("%s: server fields wrong: %v", enc, e)
			}
			if enc == record.EncodingJSON {
				want, err := event.AppendJSON(nil, e)
				if err != nil || string(want) != string(rec.Value) {
					t.Fatalf("JSON record %s\nwant event.AppendJSON's %s (%v)", rec.Value, want, err)
				}
			}
			decoded[enc] = append(decoded[enc], e)
		}
	}
	byID := func(es []*event.Event) map[string][]*event.Event {
		m := map[string][]*event.Event{}
		for _, e := range es {
			m[e.EventId] = append(m[e.EventId], e)
		}
		return m
	}
	pbs, jss := byID(decoded[record.EncodingProtobuf]), byID(decoded[record.EncodingJSON])
	for id, want := range pbs {
		got := jss[id]
		if len(got) != len(want) {
			t.Fatalf("%s: %d JSON records, %d Protobuf", id, len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(got[i], want[i]) {
				t.Errorf("%s: from JSON %v\nfrom Protobuf %v", id, got[i], want[i])
			}
		}
	}
}
