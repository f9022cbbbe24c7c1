package sparkconnect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The testdata reports are real: Spark 4.2.0's progress of the window-count
// query of the integration test (Kafka in, Kafka out), batch 0 (reads 97
// events, no watermark yet) and batch 1 (no new data; the watermark moved
// and closed 6 windows).
func TestParseProgressOfRealReports(t *testing.T) {
	mustTime := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		file          string
		batch         int64
		duration      time.Duration
		inputRows     int64
		processedRate float64
		watermark     time.Time
		stateRows     int64
		stateMem      int64
		outputRows    int64
		start, end    map[string]map[int32]int64
	}{
		{
			file: "progress-kafka-window-batch0.json", batch: 0, duration: 8510 * time.Millisecond,
			inputRows: 97, processedRate: 11.398354876615747, stateRows: 7, stateMem: 2312, outputRows: 0,
			start: map[string]map[int32]int64{}, end: map[string]map[int32]int64{"spark-it-in-6b7d79dd": {0: 97}},
		},
		{
			file: "progress-kafka-window-batch1.json", batch: 1, duration: 2832 * time.Millisecond,
			watermark: mustTime("2026-03-01T12:04:00Z"), stateRows: 1, stateMem: 2808, outputRows: 6,
			start: map[string]map[int32]int64{"spark-it-in-a44ab80e": {0: 97}},
			end:   map[string]map[int32]int64{"spark-it-in-a44ab80e": {0: 97}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseProgress(b)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID == "" || p.RunID == "" || !strings.HasPrefix(p.Name, "window_counts_") || p.Timestamp.IsZero() {
				t.Errorf("identity: id %q run %q name %q timestamp %v", p.ID, p.RunID, p.Name, p.Timestamp)
			}
			if p.BatchID != tt.batch || p.BatchDuration != tt.duration || p.DurationMs["triggerExecution"] != tt.duration.Milliseconds() {
				t.Errorf("batch %d duration %v durationMs %v", p.BatchID, p.BatchDuration, p.DurationMs)
			}
			if p.NumInputRows != tt.inputRows || p.ProcessedRowsPerSecond != tt.processedRate {
				t.Errorf("input rows %d at %v/s processed, want %d at %v/s", p.NumInputRows, p.ProcessedRowsPerSecond, tt.inputRows, tt.processedRate)
			}
			if !p.Watermark.Equal(tt.watermark) {
				t.Errorf("watermark %v, want %v", p.Watermark, tt.watermark)
			}
			if p.StateRows() != tt.stateRows || p.StateMemoryBytes() != tt.stateMem || p.RowsDroppedByWatermark() != 0 {
				t.Errorf("state rows %d memory %d dropped %d", p.StateRows(), p.StateMemoryBytes(), p.RowsDroppedByWatermark())
			}
			if p.StateOperators[0].OperatorName != "stateStoreSave" || p.StateOperators[0].CustomMetrics["stateOnCurrentVersionSizeBytes"] == 0 {
				t.Errorf("state operator %+v", p.StateOperators[0])
			}
			if p.Sink.NumOutputRows != tt.outputRows {
				t.Errorf("sink output rows %d, want %d", p.Sink.NumOutputRows, tt.outputRows)
			}
			if len(p.Sources) != 1 {
				t.Fatalf("%d sources", len(p.Sources))
			}
			src := p.Sources[0]
			start, err1 := KafkaOffsets(src.StartOffset)
			end, err2 := KafkaOffsets(src.EndOffset)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(start, tt.start) || !reflect.DeepEqual(end, tt.end) {
				t.Errorf("offsets %v → %v (%v, %v), want %v → %v", start, end, err1, err2, tt.start, tt.end)
			}
			if avg, max, ok := src.OffsetsBehindLatest(); !ok || avg != 0 || max != 0 {
				t.Errorf("offsets behind latest: %v %v %v", avg, max, ok)
			}
			if !json.Valid(p.Raw) || string(p.Raw) != string(b) {
				t.Error("Raw is not the report")
			}
		})
	}
}

func TestParseProgressOlderLayoutAndLateRows(t *testing.T) {
	// Spark 3.x writes the query-level rates itself; watermark-dropped rows
	// add up over the operators; an unparsed offset is an object.
	p, err := ParseProgress([]byte(`{"id":"q","runId":"r","name":null,"batchId":7,
		"numInputRows":12,"inputRowsPerSecond":3.5,"processedRowsPerSecond":4.5,
		"eventTime":{"watermark":"2026-01-01T00:01:00.000Z"},
		"stateOperators":[{"numRowsTotal":2,"memoryUsedBytes":10,"numRowsDroppedByWatermark":3},
		                  {"numRowsTotal":5,"memoryUsedBytes":20,"numRowsDroppedByWatermark":4}],
		"sources":[{"description":"KafkaV2","numInputRows":99,"endOffset":{"t":{"0":5,"3":8}},"metrics":{}}],
		"sink":{"description":"console"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "" || p.NumInputRows != 12 || p.InputRowsPerSecond != 3.5 || p.ProcessedRowsPerSecond != 4.5 {
		t.Errorf("query-level figures: %+v", p)
	}
	if p.StateRows() != 7 || p.StateMemoryBytes() != 30 || p.RowsDroppedByWatermark() != 7 {
		t.Errorf("state %d/%d dropped %d", p.StateRows(), p.StateMemoryBytes(), p.RowsDroppedByWatermark())
	}
	if p.Sink.NumOutputRows != -1 {
		t.Errorf("sink without a count: %d, want -1", p.Sink.NumOutputRows)
	}
	if _, _, ok := p.Sources[0].OffsetsBehindLatest(); ok {
		t.Error("offsets behind latest without metrics")
	}
	end, err := KafkaOffsets(p.Sources[0].EndOffset)
	if err != nil || !reflect.DeepEqual(end, map[string]map[int32]int64{"t": {0: 5, 3: 8}}) {
		t.Errorf("end offsets %v, %v", end, err)
	}
}

func TestParseProgressRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{}`, `{"id":""}`, `{"id":"q","batchId":"x"}`,
		`{"id":"q","timestamp":"yesterday"}`, `{"id":"q","eventTime":{"watermark":"soon"}}`,
	} {
		if p, err := ParseProgress([]byte(in)); err == nil {
			t.Errorf("ParseProgress(%q) = %+v, want an error", in, p)
		}
	}
	for _, in := range []string{`"{"`, `{"t":{"x":1}}`, `{"t":{"-1":1}}`, `{"t":[1]}`, `"\"x\""`} {
		if m, err := KafkaOffsets(json.RawMessage(in)); err == nil {
			t.Errorf("KafkaOffsets(%s) = %v, want an error", in, m)
		}
	}
}

// FuzzParseProgress: no input panics; what parses keeps its raw bytes and
// offsets that decode hold partitions ≥ 0.
func FuzzParseProgress(f *testing.F) {
	for _, name := range []string{"progress-kafka-window-batch0.json", "progress-kafka-window-batch1.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"q","sources":[{"endOffset":{"t":{"0":1}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProgress(b)
		if err != nil {
			return
		}
		if string(p.Raw) != string(b) || p.ID == "" {
			t.Fatalf("parsed %q into %+v", b, p)
		}
		for _, s := range p.Sources {
			for _, raw := range []json.RawMessage{s.StartOffset, s.EndOffset, s.LatestOffset} {
				offs, err := KafkaOffsets(raw)
				if err != nil {
					continue
				}
				for _, parts := range offs {
					for part := range parts {
						if part < 0 {
							t.Fatalf("negative partition from %s", raw)
						}
					}
				}
			}
		}
		p.StateRows()
		p.RowsDroppedByWatermark()
	})
}
