package sparkconnect

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Progress is one StreamingQueryProgress report: what a query's last
// micro-batch did. Fields missing from the JSON stay zero (Spark omits
// rates that are not numbers, e.g. before any input).
type Progress struct {
	ID        string
	RunID     string
	Name      string
	Timestamp time.Time
	BatchID   int64
	// BatchDuration is the wall time of the micro-batch.
	BatchDuration          time.Duration
	NumInputRows           int64
	InputRowsPerSecond     float64
	ProcessedRowsPerSecond float64
	// DurationMs is the time spent per phase (triggerExecution, addBatch,
	// latestOffset, queryPlanning, walCommit, commitOffsets, ...), in ms.
	DurationMs map[string]int64
	// Watermark is the event-time watermark (zero when the query has none).
	Watermark time.Time
	// EventTime holds the batch's event-time statistics as Spark wrote them
	// (avg, min, max, watermark).
	EventTime      map[string]string
	StateOperators []StateOperator
	Sources        []SourceProgress
	Sink           SinkProgress
	// Raw is the report as Spark wrote it.
	Raw json.RawMessage
}

// StateOperator is the progress of one stateful operator (an aggregation,
// a deduplication, ...).
type StateOperator struct {
	OperatorName    string
	NumRowsTotal    int64
	NumRowsUpdated  int64
	NumRowsRemoved  int64
	MemoryUsedBytes int64
	// NumRowsDroppedByWatermark counts input rows later than the watermark,
	// dropped by this operator instead of updating its state.
	NumRowsDroppedByWatermark int64
	CustomMetrics             map[string]int64
}

// SourceProgress is the progress of one source. Offsets are source-specific
// JSON; for Kafka see KafkaOffsets.
type SourceProgress struct {
	Description            string
	StartOffset            json.RawMessage
	EndOffset              json.RawMessage
	LatestOffset           json.RawMessage
	NumInputRows           int64
	InputRowsPerSecond     float64
	ProcessedRowsPerSecond float64
	// Metrics are the source's own metrics; Kafka's are avgOffsetsBehindLatest,
	// maxOffsetsBehindLatest and minOffsetsBehindLatest.
	Metrics map[string]string
}

// SinkProgress is the progress of the sink.
type SinkProgress struct {
	Description string
	// NumOutputRows is -1 when the sink does not count its rows.
	NumOutputRows int64
}

// progressJSON is the JSON layout of StreamingQueryProgress.
type progressJSON struct {
	ID                     string            `json:"id"`
	RunID                  string            `json:"runId"`
	Name                   *string           `json:"name"`
	Timestamp              string            `json:"timestamp"`
	BatchID                int64             `json:"batchId"`
	BatchDuration          int64             `json:"batchDuration"`
	NumInputRows           *int64            `json:"numInputRows"`
	InputRowsPerSecond     *float64          `json:"inputRowsPerSecond"`
	ProcessedRowsPerSecond *float64          `json:"processedRowsPerSecond"`
	DurationMs             map[string]int64  `json:"durationMs"`
	EventTime              map[string]string `json:"eventTime"`
	StateOperators         []struct {
		OperatorName              string           `json:"operatorName"`
		NumRowsTotal              int64            `json:"numRowsTotal"`
		NumRowsUpdated            int64            `json:"numRowsUpdated"`
		NumRowsRemoved            int64            `json:"numRowsRemoved"`
		MemoryUsedBytes           int64            `json:"memoryUsedBytes"`
		NumRowsDroppedByWatermark int64            `json:"numRowsDroppedByWatermark"`
		CustomMetrics             map[string]int64 `json:"customMetrics"`
	} `json:"stateOperators"`
	Sources []struct {
		Description            string            `json:"description"`
		StartOffset            json.RawMessage   `json:"startOffset"`
		EndOffset              json.RawMessage   `json:"endOffset"`
		LatestOffset           json.RawMessage   `json:"latestOffset"`
		NumInputRows           int64             `json:"numInputRows"`
		InputRowsPerSecond     float64           `json:"inputRowsPerSecond"`
		ProcessedRowsPerSecond float64           `json:"processedRowsPerSecond"`
		Metrics                map[string]string `json:"metrics"`
	} `json:"sources"`
	Sink struct {
		Description   string `json:"description"`
		NumOutputRows *int64 `json:"numOutputRows"`
	} `json:"sink"`
}

// ParseProgress parses the JSON of a StreamingQueryProgress.
func ParseProgress(b []byte) (*Progress, error) {
	var j progressJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("progress: %w", err)
	}
	if j.ID == "" {
		return nil, errors.New("progress: no query id")
	}
	p := &Progress{
		ID: j.ID, RunID: j.RunID, BatchID: j.BatchID,
		BatchDuration: time.Duration(j.BatchDuration) * time.Millisecond,
		DurationMs:    j.DurationMs,
		EventTime:     j.EventTime,
		Raw:           append(json.RawMessage(nil), b...),
	}
	if j.Name != nil {
		p.Name = *j.Name
	}
	var err error
	if j.Timestamp != "" {
		if p.Timestamp, err = time.Parse(time.RFC3339Nano, j.Timestamp); err != nil {
			return nil, fmt.Errorf("progress: timestamp: %w", err)
		}
	}
	if w := j.EventTime["watermark"]; w != "" {
		if p.Watermark, err = time.Parse(time.RFC3339Nano, w); err != nil {
			return nil, fmt.Errorf("progress: watermark: %w", err)
		}
		if p.Watermark.Equal(time.Unix(0, 0)) {
			// Spark's initial watermark, before any event: no watermark yet.
			p.Watermark = time.Time{}
		}
	}
	for _, s := range j.StateOperators {
		p.StateOperators = append(p.StateOperators, StateOperator(s))
	}
	for _, s := range j.Sources {
		p.Sources = append(p.Sources, SourceProgress(s))
		p.NumInputRows += s.NumInputRows
		p.InputRowsPerSecond += s.InputRowsPerSecond
		p.ProcessedRowsPerSecond += s.ProcessedRowsPerSecond
	}
	// Spark 4 leaves the query-level rates out of the JSON (they are the
	// sums over the sources, as computed above); older versions write them.
	if j.NumInputRows != nil {
		p.NumInputRows = *j.NumInputRows
	}
	if j.InputRowsPerSecond != nil {
		p.InputRowsPerSecond = *j.InputRowsPerSecond
	}
	if j.ProcessedRowsPerSecond != nil {
		p.ProcessedRowsPerSecond = *j.ProcessedRowsPerSecond
	}
	p.Sink = SinkProgress{Description: j.Sink.Description, NumOutputRows: -1}
	if j.Sink.NumOutputRows != nil {
		p.Sink.NumOutputRows = *j.Sink.NumOutputRows
	}
	return p, nil
}

// StateRows is the number of rows in all state stores of the query.
func (p *Progress) StateRows() int64 {
	var n int64
	for _, s := range p.StateOperators {
		n += s.NumRowsTotal
	}
	return n
}

// StateMemoryBytes is the memory used by all state stores of the query.
func (p *Progress) StateMemoryBytes() int64 {
	var n int64
	for _, s := range p.StateOperators {
		n += s.MemoryUsedBytes
	}
	return n
}

// RowsDroppedByWatermark is the number of late rows the batch's stateful
// operators dropped.
func (p *Progress) RowsDroppedByWatermark() int64 {
	var n int64
	for _, s := range p.StateOperators {
		n += s.NumRowsDroppedByWatermark
	}
	return n
}

// OffsetsBehindLatest returns a Kafka source's average and maximum number of
// offsets (per partition) between what the batch read and the newest; ok is
// false for sources without these metrics.
func (s SourceProgress) OffsetsBehindLatest() (avg, max float64, ok bool) {
	a, err1 := strconv.ParseFloat(s.Metrics["avgOffsetsBehindLatest"], 64)
	m, err2 := strconv.ParseFloat(s.Metrics["maxOffsetsBehindLatest"], 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return a, m, true
}

// KafkaOffsets decodes a Kafka source's offset JSON,
// {"topic":{"partition":offset,...},...}, into topic → partition → offset
// (the next offset to read). Null or empty JSON gives an empty map.
func KafkaOffsets(raw json.RawMessage) (map[string]map[int32]int64, error) {
	out := map[string]map[int32]int64{}
	if len(raw) > 0 && raw[0] == '"' {
		// Spark writes the offsets as a JSON string holding the JSON object
		// when its progress reporter does not parse them.
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("kafka offsets: %w", err)
		}
		raw = json.RawMessage(s)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	var m map[string]map[string]int64
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("kafka offsets: %w", err)
	}
	for topic, parts := range m {
		out[topic] = make(map[int32]int64, len(parts))
		for p, off := range parts {
			n, err := strconv.ParseInt(p, 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("kafka offsets: topic %q: partition %q is not a partition number", topic, p)
			}
			out[topic][int32(n)] = off
		}
	}
	return out, nil
}
