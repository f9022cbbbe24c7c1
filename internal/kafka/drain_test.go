package kafka

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestUnconsumedCountsRecordsNotTransactionMarkers: a reader of a
// transactional topic that has read every record stays short of the end by
// the commit markers; Unconsumed calls it done, and counts the records of a
// reader that is behind.
func TestUnconsumedCountsRecordsNotTransactionMarkers(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	cl, err := kgo.NewClient(append(opts, kgo.TransactionalID("x"), kgo.DefaultProduceTopic("t"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for range 2 { // two transactions of 3 records: offsets 0-2, marker 3, 4-6, marker 7
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	ends, err := Ends(ctx, kadm.NewClient(cl), "t")
	if err != nil {
		t.Fatal(err)
	}
	if ends["t"][0] != 8 {
		t.Fatalf("end offset %d, want 8 (6 records, 2 markers)", ends["t"][0])
	}
	for _, tc := range []struct {
		from Offsets
		want int64
	}{
		{Offsets{"t": {0: 7}}, 0}, // read all: the last record's offset + 1
		{Offsets{"t": {0: 8}}, 0},
		{Offsets{"t": {0: 5}}, 2},
		{Offsets{}, 6}, // never read: from the start
	} {
		if got, err := Unconsumed(ctx, opts, tc.from, ends); err != nil || got != tc.want {
			t.Errorf("from %v: %d unconsumed (%v), want %d", tc.from, got, err, tc.want)
		}
	}
}
