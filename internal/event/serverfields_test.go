package event

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestAppendWithServerFields(t *testing.T) {
	recv := timestamppb.New(time.Date(2026, 11, 25, 18, 0, 1, 0, time.UTC)) // nanos 0 on purpose
	tests := []struct {
		name    string
		client  *Event
		version uint32
	}{
		{"plain", validPurchase(), 1},
		{"client claims a game and a received_at", func() *Event {
			e := validPurchase()
			e.GameId = "someone-else"
			e.ReceivedAt = timestamppb.New(time.Date(2001, 1, 1, 0, 0, 0, 999, time.UTC))
			e.SchemaVersion = 1
			return e
		}(), 0},
		{"empty event", &Event{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := proto.Marshal(tc.client)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(AppendWithServerFields(nil, raw, tc.version, "game-a", recv))
			if err != nil {
				t.Fatal(err)
			}
			want := proto.Clone(tc.client).(*Event)
			want.GameId, want.ReceivedAt = "game-a", recv
			if tc.version > 0 {
				want.SchemaVersion = tc.version
			}
			if !proto.Equal(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}
