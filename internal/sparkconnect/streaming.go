package sparkconnect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// Query is a streaming query to start: SQL over (streaming) views, written
// to a sink. It is what spark.sql(SQL).writeStream.format(Format)
// .outputMode(OutputMode).option("checkpointLocation", CheckpointLocation)
// .options(Options).queryName(Name).trigger(...).start() does in PySpark.
type Query struct {
	// Name names the query (queryName); Active reports it.
	Name string
	// SQL is the query; it reads streaming views made with CreateStreamView
	// or CreateView.
	SQL string
	// Format is the sink ("kafka", "parquet", "console", "memory", ...).
	Format string
	// OutputMode is "append", "update" or "complete" ("" is Spark's default, append).
	OutputMode string
	// CheckpointLocation is the query's checkpoint directory or URI. A query
	// started again with the same checkpoint continues where it stopped.
	CheckpointLocation string
	// Options are the sink's options (for Kafka: kafka.bootstrap.servers, topic, ...).
	Options map[string]string
	// ProcessingTime is the micro-batch interval (0: the next batch starts
	// as soon as the previous one ends). Exclusive with AvailableNow.
	ProcessingTime time.Duration
	// AvailableNow processes what is available when the query starts, in
	// batches, and then stops the query.
	AvailableNow bool
}

// QueryRef identifies a started query. ID stays the same across restarts
// from the same checkpoint; RunID is new on every start.
type QueryRef struct {
	ID    string
	RunID string
	Name  string
}

// Status is a query's status (StreamingQuery.status).
type Status struct {
	// Active is false once the query stopped or failed (see Exception).
	Active bool
	// Message says what the query is doing ("Waiting for data to arrive", ...).
	Message string
	// DataAvailable says whether a source has data not processed yet.
	DataAvailable bool
	// TriggerActive says whether a micro-batch is running.
	TriggerActive bool
}

// StartQuery starts a streaming query.
func (c *Client) StartQuery(ctx context.Context, q Query) (QueryRef, error) {
	if q.SQL == "" || q.Format == "" {
		return QueryRef{}, errors.New("sparkconnect: start query: SQL and Format are required")
	}
	if q.AvailableNow && q.ProcessingTime > 0 {
		return QueryRef{}, errors.New("sparkconnect: start query: ProcessingTime and AvailableNow are exclusive")
	}
	if q.ProcessingTime < 0 {
		return QueryRef{}, errors.New("sparkconnect: start query: negative ProcessingTime")
	}
	opts := maps.Clone(q.Options)
	if q.CheckpointLocation != "" {
		if opts == nil {
			opts = map[string]string{}
		}
		opts["checkpointLocation"] = q.CheckpointLocation
	}
	ws := map[string]any{
		"input":  map[string]any{"sql": map[string]any{"query": q.SQL}},
		"format": q.Format,
	}
	if len(opts) > 0 {
		ws["options"] = opts
	}
	if q.OutputMode != "" {
		ws["outputMode"] = q.OutputMode
	}
	if q.Name != "" {
		ws["queryName"] = q.Name
	}
	switch {
	case q.AvailableNow:
		ws["availableNow"] = true
	case q.ProcessingTime > 0:
		ws["processingTimeInterval"] = fmt.Sprintf("%d milliseconds", q.ProcessingTime.Milliseconds())
	}
	op := "start query " + q.Name
	ex, err := c.command(ctx, op, map[string]any{"writeStreamOperationStart": ws})
	if err != nil {
		return QueryRef{}, err
	}
	for _, r := range ex.responses {
		if res := r.WriteStreamOperationStartResult; res != nil {
			return QueryRef{ID: res.QueryID.ID, RunID: res.QueryID.RunID, Name: res.Name}, nil
		}
	}
	return QueryRef{}, fmt.Errorf("sparkconnect: %s: the server returned no query id", op)
}

// Active lists the session's active queries (spark.streams.active).
func (c *Client) Active(ctx context.Context) ([]QueryRef, error) {
	ex, err := c.command(ctx, "active queries", map[string]any{"streamingQueryManagerCommand": map[string]any{"active": true}})
	if err != nil {
		return nil, err
	}
	var refs []QueryRef
	for _, r := range ex.responses {
		if res := r.StreamingQueryManagerCommandResult; res != nil && res.Active != nil {
			for _, q := range res.Active.ActiveQueries {
				refs = append(refs, q.ref())
			}
		}
	}
	return refs, nil
}

// GetQuery finds an active query of the session by its id (spark.streams.get);
// ok is false when there is none.
func (c *Client) GetQuery(ctx context.Context, id string) (ref QueryRef, ok bool, err error) {
	ex, err := c.command(ctx, "get query "+id, map[string]any{"streamingQueryManagerCommand": map[string]any{"getQuery": id}})
	if err != nil {
		return QueryRef{}, false, err
	}
	for _, r := range ex.responses {
		if res := r.StreamingQueryManagerCommandResult; res != nil && res.Query != nil && res.Query.ID.ID != "" {
			return res.Query.ref(), true, nil
		}
	}
	return QueryRef{}, false, nil
}

// queryCommand runs a StreamingQueryCommand and returns its result.
func (c *Client) queryCommand(ctx context.Context, op string, q QueryRef, cmd map[string]any) (*execution, error) {
	body := map[string]any{"queryId": map[string]any{"id": q.ID, "runId": q.RunID}}
	maps.Copy(body, cmd)
	name := q.Name
	if name == "" {
		name = q.ID
	}
	return c.command(ctx, op+" of query "+name, map[string]any{"streamingQueryCommand": body})
}

// Status returns a query's status.
func (c *Client) Status(ctx context.Context, q QueryRef) (Status, error) {
	ex, err := c.queryCommand(ctx, "status", q, map[string]any{"status": true})
	if err != nil {
		return Status{}, err
	}
	for _, r := range ex.responses {
		if res := r.StreamingQueryCommandResult; res != nil && res.Status != nil {
			s := res.Status
			return Status{Active: s.IsActive, Message: s.StatusMessage, DataAvailable: s.IsDataAvailable, TriggerActive: s.IsTriggerActive}, nil
		}
	}
	return Status{}, fmt.Errorf("sparkconnect: status of query %s: no status in the response", q.ID)
}

// RecentProgress returns the raw JSON of the query's recent progress
// reports, oldest first (StreamingQuery.recentProgress).
func (c *Client) RecentProgress(ctx context.Context, q QueryRef) ([]string, error) {
	return c.progress(ctx, "recent progress", q, "recentProgress")
}

// LastProgress returns the query's last progress report, or nil before its
// first micro-batch (StreamingQuery.lastProgress).
func (c *Client) LastProgress(ctx context.Context, q QueryRef) (*Progress, error) {
	js, err := c.progress(ctx, "last progress", q, "lastProgress")
	if err != nil || len(js) == 0 {
		return nil, err
	}
	p, err := ParseProgress([]byte(js[len(js)-1]))
	if err != nil {
		return nil, fmt.Errorf("sparkconnect: last progress of query %s: %w", q.ID, err)
	}
	return p, nil
}

func (c *Client) progress(ctx context.Context, op string, q QueryRef, field string) ([]string, error) {
	ex, err := c.queryCommand(ctx, op, q, map[string]any{field: true})
	if err != nil {
		return nil, err
	}
	for _, r := range ex.responses {
		if res := r.StreamingQueryCommandResult; res != nil && res.RecentProgress != nil {
			return res.RecentProgress.RecentProgressJSON, nil
		}
	}
	return nil, nil
}

// Exception returns the message of the exception that ended the query, or
// "" while it runs or when it stopped without one.
func (c *Client) Exception(ctx context.Context, q QueryRef) (string, error) {
	ex, err := c.queryCommand(ctx, "exception", q, map[string]any{"exception": true})
	if err != nil {
		return "", err
	}
	for _, r := range ex.responses {
		if res := r.StreamingQueryCommandResult; res != nil && res.Exception != nil && res.Exception.ExceptionMessage != nil {
			return *res.Exception.ExceptionMessage, nil
		}
	}
	return "", nil
}

// AwaitTermination waits up to timeout (it must be positive) for the query
// to end; it reports whether it did. The wait happens on the server, so ctx
// should allow for more than timeout.
func (c *Client) AwaitTermination(ctx context.Context, q QueryRef, timeout time.Duration) (bool, error) {
	if timeout <= 0 {
		return false, errors.New("sparkconnect: await termination: the timeout must be positive")
	}
	ex, err := c.queryCommand(ctx, "await termination", q,
		map[string]any{"awaitTermination": map[string]any{"timeoutMs": timeout.Milliseconds()}})
	if err != nil {
		return false, err
	}
	for _, r := range ex.responses {
		if res := r.StreamingQueryCommandResult; res != nil && res.AwaitTermination != nil {
			return res.AwaitTermination.Terminated, nil
		}
	}
	return false, nil
}

// Stop stops the query and waits until it has stopped (the current
// micro-batch is interrupted; its checkpoint stays consistent).
func (c *Client) Stop(ctx context.Context, q QueryRef) error {
	_, err := c.queryCommand(ctx, "stop", q, map[string]any{"stop": true})
	return err
}
