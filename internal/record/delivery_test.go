package record_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/record"
)

func TestAtLeastOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []record.Header
		want    bool
	}{
		{"none", nil, false},
		{"the header", record.AtLeastOnceHeaders(), true},
		{"among others", []record.Header{{Key: "watermark", Value: []byte("x")}, {Key: "delivery", Value: []byte("at-least-once")}}, true},
		{"another value", []record.Header{{Key: "delivery", Value: []byte("exactly-once")}}, false},
		{"not exact", []record.Header{{Key: "delivery", Value: []byte("At-Least-Once")}}, false},
		{"another key", []record.Header{{Key: "Delivery", Value: []byte("at-least-once")}}, false},
		{"empty value", []record.Header{{Key: "delivery"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := record.AtLeastOnce(tc.headers); got != tc.want {
				t.Errorf("AtLeastOnce(%v) = %v, want %v", tc.headers, got, tc.want)
			}
			kh := make([]kgo.RecordHeader, len(tc.headers)) // the loader's form
			for i, h := range tc.headers {
				kh[i] = kgo.RecordHeader(h)
			}
			if got := record.AtLeastOnce(kh); got != tc.want {
				t.Errorf("AtLeastOnce of kgo headers %v = %v, want %v", kh, got, tc.want)
			}
		})
	}
}

func BenchmarkAtLeastOnce(b *testing.B) {
	none := []kgo.RecordHeader(nil)
	marked := []kgo.RecordHeader{{Key: "delivery", Value: []byte("at-least-once")}}
	for range b.N {
		if record.AtLeastOnce(none) || !record.AtLeastOnce(marked) {
			b.Fatal("wrong")
		}
	}
}
