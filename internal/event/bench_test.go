package event

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func benchBatch(b *testing.B, n int) ([]byte, []byte) {
	b.Helper()
	var js bytes.Buffer
	batch := &EventBatch{}
	js.WriteByte('[')
	for i := 0; i < n; i++ {
		e := validPurchase()
		e.EventId = fmt.Sprintf("e-%d", i)
		e.AppVersion, e.AppBuild = "1.12.0", "1.12.0+4411"
		e.Device = &Device{Model: "iPhone15,2", OsVersion: "18.1", Locale: "de_DE"}
		if i > 0 {
			js.WriteByte(',')
		}
		j, _ := MarshalJSON(e)
		js.Write(j)
		batch.Events = append(batch.Events, e)
	}
	js.WriteByte(']')
	pb, _ := proto.Marshal(batch)
	return js.Bytes(), pb
}

// BenchmarkDecodeValidateEncode is the gateway's per-batch CPU work without
// HTTP and Kafka: decode 100 events, validate each, encode each for Kafka.
func BenchmarkDecodeValidateEncode(b *testing.B) {
	js, pb := benchBatch(b, 100)
	for _, tc := range []struct {
		name string
		f    Format
		body []byte
	}{{"json", FormatJSON, js}, {"protobuf", FormatProtobuf, pb}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			lim := Limits{MaxEvents: 1000, MaxEventBytes: 32 << 10, MaxDepth: 16}
			rules := testRules()
			var arena []byte
			for i := 0; i < b.N; i++ {
				items, err := DecodeBatch(tc.f, tc.body, lim)
				if err != nil {
					b.Fatal(err)
				}
				arena = arena[:0]
				for _, it := range items {
					if it.Rejection != nil || Validate(it.Event, rules) != nil {
						b.Fatal("rejected")
					}
					arena, _ = proto.MarshalOptions{}.MarshalAppend(arena, it.Event)
				}
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendJSON is the stream processor's per-event output encoding:
// AppendJSON (the hand-written encoder) against protojson, which it
// replaces, on a typical purchase with every envelope field set and a level
// event.
func BenchmarkAppendJSON(b *testing.B) {
	purchase := validPurchase()
	purchase.SchemaVersion, purchase.GameId = 1, "g-1"
	purchase.AppVersion, purchase.AppBuild = "1.12.0", "1.12.0+4411"
	purchase.ReceivedAt = timestamppb.New(testNow)
	purchase.Device = &Device{Model: "iPhone15,2", OsVersion: "18.1", Locale: "de_DE"}
	level := proto.Clone(purchase).(*Event)
	level.EventType = TypeLevelComplete
	level.Payload = &Event_LevelComplete{LevelComplete: &Level{Level: 12, DurationMs: 93_500, Score: 48_210}}
	for _, ev := range []struct {
		name string
		e    *Event
	}{{"purchase", purchase}, {"level", level}} {
		for _, enc := range []struct {
			name string
			f    func([]byte, *Event) ([]byte, error)
		}{
			{"fast", AppendJSON},
			{"protojson", func(b []byte, e *Event) ([]byte, error) { return jsonOut.MarshalAppend(b, e) }},
		} {
			b.Run(ev.name+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				var buf []byte
				for b.Loop() {
					var err error
					if buf, err = enc.f(buf[:0], ev.e); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(len(buf)))
			})
		}
	}
}
