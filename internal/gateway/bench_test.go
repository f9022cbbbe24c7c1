package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// BenchmarkRawEncoding is the gateway's per-batch CPU work without HTTP
// and Kafka, as event's BenchmarkDecodeValidateEncode, through the
// gateway's own encoder (appendRaw): decode a batch of 100 events, validate
// each, encode each as a raw record value in the raw encoding. It measures
// what --raw-encoding json costs against the Protobuf default, for each
// body format.
func BenchmarkRawEncoding(b *testing.B) {
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var parts []string
	batch := &event.EventBatch{}
	for i := 0; i < 100; i++ {
		e := &event.Event{EventId: fmt.Sprintf("0b6c2f8e-5d1a-4f7b-9a55-%012d", i), EventType: event.TypePurchase,
			PlayerId: fmt.Sprintf("player-%d", i%37), SessionId: "5f0e8c1e-3b7a-4c2d-8f61-2a9d4e7b1c03", Seq: uint64(i + 1),
			ClientTime: timestamppb.New(now.Add(-time.Second)), Platform: "ios", AppVersion: "1.12.0", AppBuild: "1.12.0+4411",
			Country: "DE", Device: &event.Device{Model: "iPhone15,2", OsVersion: "18.1", Locale: "de_DE"},
			Payload: &event.Event_Purchase{Purchase: &event.Purchase{Sku: "gems_500", Price: 4.99, Currency: "EUR",
				Store: "app_store", StoreTransactionId: fmt.Sprintf("GPA.3312-%d", i)}}}
		j, err := event.MarshalJSON(e)
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, string(j))
		batch.Events = append(batch.Events, e)
	}
	js := []byte("[" + strings.Join(parts, ",") + "]")
	pb, err := proto.Marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []struct {
		name string
		f    event.Format
		body []byte
	}{{"json", event.FormatJSON, js}, {"protobuf", event.FormatProtobuf, pb}} {
		for _, enc := range []record.Encoding{record.EncodingProtobuf, record.EncodingJSON} {
			b.Run("body="+in.name+"/raw="+enc.String(), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Topic, cfg.Keys, cfg.RawEncoding = "raw", map[string]string{"k": "g"}, enc
				g, err := New(cfg, nil, nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				lim := cfg.limits()
				rules := event.Rules{Now: now, MaxPast: cfg.MaxPast, MaxFuture: cfg.MaxFuture, MaxDepth: cfg.MaxDepth}
				received := timestamppb.New(now)
				var arena []byte
				b.SetBytes(int64(len(in.body)))
				b.ReportAllocs()
				for b.Loop() {
					items, err := event.DecodeBatch(in.f, in.body, lim)
					if err != nil {
						b.Fatal(err)
					}
					arena = arena[:0]
					for i := range items {
						it := &items[i]
						if it.Rejection != nil || event.Validate(it.Event, rules) != nil {
							b.Fatal("rejected")
						}
						if arena, err = g.appendRaw(arena, it, "g", received); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
