package sparkconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/dynamicpb"
)

// fakeSpark is a gRPC server that speaks the Spark Connect service's wire
// format from the same descriptors: each test scripts its answers. It checks
// the requests the client builds (field names, shapes) without a JVM; the
// integration tests check them against real Spark.
type fakeSpark struct {
	t      *testing.T
	remote string

	mu       sync.Mutex
	requests []fakeRequest
	// answer returns the responses (JSON form) of a call, or an error.
	answer func(method string, req map[string]any) ([]map[string]any, error)
}

type fakeRequest struct {
	method string
	req    map[string]any
	md     metadata.MD
}

func newFakeSpark(t *testing.T, answer func(method string, req map[string]any) ([]map[string]any, error)) *fakeSpark {
	t.Helper()
	f := &fakeSpark{t: t, answer: answer}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(f.handle))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	f.remote = "sc://" + lis.Addr().String()
	return f
}

func (f *fakeSpark) handle(_ any, stream grpc.ServerStream) error {
	full, _ := grpc.MethodFromServerStream(stream)
	method := strings.TrimPrefix(full, service)
	reqType, err := messageType(method + "Request")
	if err != nil {
		return status.Errorf(codes.Unimplemented, "no method %s", full)
	}
	in := dynamicpb.NewMessage(reqType)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	b, err := protojson.Marshal(in)
	if err != nil {
		return err
	}
	var req map[string]any
	if err := json.Unmarshal(b, &req); err != nil {
		return err
	}
	md, _ := metadata.FromIncomingContext(stream.Context())
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{method: method, req: req, md: md})
	f.mu.Unlock()
	resps, err := f.answer(method, req)
	if err != nil {
		return err
	}
	for _, r := range resps {
		m, err := newMessage(method+"Response", r)
		if err != nil {
			f.t.Errorf("bad scripted response %v: %v", r, err)
			return err
		}
		if err := stream.SendMsg(m); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSpark) calls() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

// at digs into a JSON-shaped value along keys.
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

const testSession = "5f0e0a5e-6c55-4a44-9d43-8d8d2d1c2b3a"

func dialFake(t *testing.T, f *fakeSpark, params string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), f.remote+params, WithSessionID(testSession))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStartQueryBuildsWriteStreamOperationStart(t *testing.T) {
	f := newFakeSpark(t, func(method string, req map[string]any) ([]map[string]any, error) {
		return []map[string]any{{
			"sessionId": testSession, "serverSideSessionId": "srv-1",
			"writeStreamOperationStartResult": map[string]any{
				"queryId": map[string]any{"id": "qid", "runId": "run1"}, "name": "kpis",
			},
		}}, nil
	})
	c := dialFake(t, f, "/;user_id=ann;x-tenant=blue")
	ctx := context.Background()
	q := Query{
		Name: "kpis", SQL: "SELECT * FROM events", Format: "kafka", OutputMode: "update",
		CheckpointLocation: "/cp/kpis", Options: map[string]string{"topic": "out"},
		ProcessingTime: 1500 * time.Millisecond,
	}
	ref, err := c.StartQuery(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if ref != (QueryRef{ID: "qid", RunID: "run1", Name: "kpis"}) {
		t.Errorf("StartQuery = %+v", ref)
	}
	if q.Options["checkpointLocation"] != "" {
		t.Error("StartQuery changed the caller's Options")
	}
	if c.ServerSessionID() != "srv-1" {
		t.Errorf("ServerSessionID = %q", c.ServerSessionID())
	}
	calls := f.calls()
	if len(calls) != 1 || calls[0].method != "ExecutePlan" {
		t.Fatalf("calls %+v", calls)
	}
	req := calls[0].req
	if req["sessionId"] != testSession || at(req, "userContext", "userId") != "ann" || req["clientType"] != "gamepulse" || req["operationId"] == "" {
		t.Errorf("request header %v", req)
	}
	if got := calls[0].md.Get("x-tenant"); len(got) != 1 || got[0] != "blue" {
		t.Errorf("x-tenant header %v", got)
	}
	ws := at(req, "plan", "command", "writeStreamOperationStart")
	want := map[string]any{
		"input":                  map[string]any{"sql": map[string]any{"query": "SELECT * FROM events"}},
		"format":                 "kafka",
		"options":                map[string]any{"topic": "out", "checkpointLocation": "/cp/kpis"},
		"outputMode":             "update",
		"queryName":              "kpis",
		"processingTimeInterval": "1500 milliseconds",
	}
	if !reflect.DeepEqual(ws, want) {
		t.Errorf("writeStreamOperationStart\n got %v\nwant %v", ws, want)
	}

	q.ProcessingTime, q.AvailableNow = 0, true
	if _, err := c.StartQuery(ctx, q); err != nil {
		t.Fatal(err)
	}
	if ws := at(f.calls()[1].req, "plan", "command", "writeStreamOperationStart"); at(ws, "availableNow") != true || at(ws, "processingTimeInterval") != nil {
		t.Errorf("available-now trigger: %v", ws)
	}
	for _, bad := range []Query{
		{SQL: "SELECT 1"},
		{Format: "kafka"},
		{SQL: "x", Format: "kafka", AvailableNow: true, ProcessingTime: time.Second},
		{SQL: "x", Format: "kafka", ProcessingTime: -time.Second},
	} {
		if _, err := c.StartQuery(ctx, bad); err == nil {
			t.Errorf("StartQuery(%+v) succeeded", bad)
		}
	}
	if n := len(f.calls()); n != 2 {
		t.Errorf("invalid queries reached the server: %d calls", n)
	}
}

func TestQueryCommandsAndTheirResults(t *testing.T) {
	progress := []string{`{"id":"qid","runId":"run1","batchId":1}`, `{"id":"qid","runId":"run1","batchId":2,"numInputRows":5}`}
	f := newFakeSpark(t, func(method string, req map[string]any) ([]map[string]any, error) {
		cmd := at(req, "plan", "command")
		if m := at(cmd, "streamingQueryManagerCommand"); m != nil {
			if at(m, "active") == true {
				return []map[string]any{{"streamingQueryManagerCommandResult": map[string]any{"active": map[string]any{
					"activeQueries": []any{map[string]any{"id": map[string]any{"id": "qid", "runId": "run1"}, "name": "kpis"}},
				}}}}, nil
			}
			if at(m, "getQuery") == "qid" {
				return []map[string]any{{"streamingQueryManagerCommandResult": map[string]any{"query": map[string]any{
					"id": map[string]any{"id": "qid", "runId": "run1"}, "name": "kpis"}}}}, nil
			}
			return []map[string]any{{"streamingQueryManagerCommandResult": map[string]any{"query": map[string]any{}}}}, nil
		}
		sq := at(cmd, "streamingQueryCommand")
		if at(sq, "queryId", "id") != "qid" || at(sq, "queryId", "runId") != "run1" {
			return nil, status.Error(codes.InvalidArgument, "wrong query id")
		}
		var res map[string]any
		switch {
		case at(sq, "status") == true:
			res = map[string]any{"status": map[string]any{"statusMessage": "Waiting for data to arrive", "isActive": true, "isDataAvailable": true}}
		case at(sq, "lastProgress") == true:
			res = map[string]any{"recentProgress": map[string]any{"recentProgressJson": progress[1:]}}
		case at(sq, "recentProgress") == true:
			res = map[string]any{"recentProgress": map[string]any{"recentProgressJson": progress}}
		case at(sq, "exception") == true:
			res = map[string]any{"exception": map[string]any{"exceptionMessage": "boom", "errorClass": "X"}}
		case at(sq, "awaitTermination", "timeoutMs") == "2000":
			res = map[string]any{"awaitTermination": map[string]any{"terminated": true}}
		case at(sq, "stop") == true:
			res = map[string]any{}
		default:
			return nil, status.Errorf(codes.InvalidArgument, "unexpected command %v", sq)
		}
		res["queryId"] = map[string]any{"id": "qid", "runId": "run1"}
		return []map[string]any{{"streamingQueryCommandResult": res}}, nil
	})
	c := dialFake(t, f, "")
	ctx := context.Background()
	ref := QueryRef{ID: "qid", RunID: "run1", Name: "kpis"}

	active, err := c.Active(ctx)
	if err != nil || !reflect.DeepEqual(active, []QueryRef{ref}) {
		t.Errorf("Active = %+v, %v", active, err)
	}
	got, ok, err := c.GetQuery(ctx, "qid")
	if err != nil || !ok || got != ref {
		t.Errorf("GetQuery = %+v %v %v", got, ok, err)
	}
	if _, ok, err := c.GetQuery(ctx, "other"); err != nil || ok {
		t.Errorf("GetQuery of an unknown id = %v %v", ok, err)
	}
	st, err := c.Status(ctx, ref)
	if err != nil || st != (Status{Active: true, Message: "Waiting for data to arrive", DataAvailable: true}) {
		t.Errorf("Status = %+v, %v", st, err)
	}
	p, err := c.LastProgress(ctx, ref)
	if err != nil || p == nil || p.BatchID != 2 || p.NumInputRows != 5 {
		t.Errorf("LastProgress = %+v, %v", p, err)
	}
	recent, err := c.RecentProgress(ctx, ref)
	if err != nil || !reflect.DeepEqual(recent, progress) {
		t.Errorf("RecentProgress = %v, %v", recent, err)
	}
	if exc, err := c.Exception(ctx, ref); err != nil || exc != "boom" {
		t.Errorf("Exception = %q, %v", exc, err)
	}
	if done, err := c.AwaitTermination(ctx, ref, 2*time.Second); err != nil || !done {
		t.Errorf("AwaitTermination = %v, %v", done, err)
	}
	if _, err := c.AwaitTermination(ctx, ref, 0); err == nil {
		t.Error("AwaitTermination without a timeout succeeded")
	}
	if err := c.Stop(ctx, ref); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := c.Stop(ctx, QueryRef{ID: "nope"}); err == nil || !strings.Contains(err.Error(), "wrong query id") || !strings.Contains(err.Error(), "stop of query nope") {
		t.Errorf("Stop of another query: %v", err)
	}
}

// arrowStream writes rows of (id bigint, game string, ts timestamp) as an
// Arrow IPC stream, as Spark sends them.
func arrowStream(t *testing.T, ids []int64, games []string, ts []time.Time) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "game", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range ids {
		b.Field(0).(*array.Int64Builder).Append(ids[i])
		if games[i] == "" {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(games[i])
		}
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(ts[i].UnixMicro()))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSQLRunsTheResultRelationAndDecodesArrow(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	batches := [][]byte{
		arrowStream(t, []int64{1, 2}, []string{"alpha", ""}, []time.Time{ts, ts.Add(time.Second)}),
		arrowStream(t, []int64{3}, []string{"gamma"}, []time.Time{ts}),
	}
	relation := map[string]any{"common": map[string]any{"planId": "7"}, "sql": map[string]any{"query": "SELECT 1"}}
	f := newFakeSpark(t, func(method string, req map[string]any) ([]map[string]any, error) {
		if at(req, "plan", "command", "sqlCommand", "sql") == "SELECT x" {
			return []map[string]any{{"sqlCommandResult": map[string]any{"relation": relation}}, {"resultComplete": map[string]any{}}}, nil
		}
		if !reflect.DeepEqual(at(req, "plan", "root"), relation) {
			return nil, status.Errorf(codes.InvalidArgument, "root %v", at(req, "plan", "root"))
		}
		var out []map[string]any
		for _, b := range batches {
			out = append(out, map[string]any{"arrowBatch": map[string]any{"rowCount": "1", "data": b}})
		}
		return out, nil
	})
	c := dialFake(t, f, "")
	rows, err := c.SQL(context.Background(), "SELECT x")
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"id": int64(1), "game": "alpha", "ts": "2026-01-02T03:04:05Z"},
		{"id": int64(2), "game": nil, "ts": "2026-01-02T03:04:06Z"},
		{"id": int64(3), "game": "gamma", "ts": "2026-01-02T03:04:05Z"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n got %#v\nwant %#v", rows, want)
	}
	if n := len(f.calls()); n != 2 {
		t.Errorf("%d calls, want the command and its relation", n)
	}
}

func TestSparkErrorsKeepSparksMessageAndClass(t *testing.T) {
	msg := "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601"
	f := newFakeSpark(t, func(method string, req map[string]any) ([]map[string]any, error) {
		st, err := status.New(codes.Internal, msg).WithDetails(&errdetails.ErrorInfo{
			Reason: "org.apache.spark.sql.catalyst.parser.ParseException",
			Domain: "org.apache.spark",
			Metadata: map[string]string{
				"classes":    `["org.apache.spark.sql.catalyst.parser.ParseException"]`,
				"errorClass": "PARSE_SYNTAX_ERROR", "sqlState": "42601",
			},
		})
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	})
	c := dialFake(t, f, "")
	_, err := c.SQL(context.Background(), "SELEC 1")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("SQL error %v is not an *Error", err)
	}
	want := Error{Op: "sql", Code: codes.Internal, Message: msg, ErrorClass: "PARSE_SYNTAX_ERROR", SQLState: "42601",
		Exception: "org.apache.spark.sql.catalyst.parser.ParseException"}
	if *e != want {
		t.Errorf("error %+v, want %+v", *e, want)
	}
	if err.Error() != "sparkconnect: sql: "+msg || ErrorClass(err) != "PARSE_SYNTAX_ERROR" {
		t.Errorf("Error() = %q, class %q", err, ErrorClass(err))
	}
	if ErrorClass(errors.New("x")) != "" {
		t.Error("ErrorClass of a plain error")
	}
}

func TestUnreachableServerAndCancelledCalls(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	c, err := Dial(context.Background(), "sc://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Version(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.Unavailable {
		t.Errorf("Version of a closed port: %v, want Unavailable", err)
	}

	f := newFakeSpark(t, func(string, map[string]any) ([]map[string]any, error) { return nil, nil })
	c2 := dialFake(t, f, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c2.Active(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Active with a cancelled context: %v", err)
	}
}

func TestDialRejectsBadSessionAndRemote(t *testing.T) {
	if _, err := Dial(context.Background(), "sc://h", WithSessionID("not-a-uuid")); err == nil {
		t.Error("Dial with a session id that is not a UUID succeeded")
	}
	if _, err := Dial(context.Background(), "http://h"); err == nil {
		t.Error("Dial of an http URL succeeded")
	}
	c, err := Dial(context.Background(), "sc://h/;session_id="+testSession)
	if err != nil || c.SessionID() != testSession {
		t.Fatalf("session from the remote: %v, %v", c, err)
	}
	c.Close()
	c, err = Dial(context.Background(), "sc://h")
	if err != nil || !uuidRE.MatchString(c.SessionID()) {
		t.Fatalf("a new session id: %v, %v", c, err)
	}
	c.Close()
}

func TestCreateDedupViewBuildsDeduplicateWithinWatermark(t *testing.T) {
	f := newFakeSpark(t, func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{{"sessionId": testSession, "serverSideSessionId": "srv-1"}}, nil
	})
	c := dialFake(t, f, "")
	if err := c.CreateDedupView(context.Background(), "dedup", "valid", []string{"event_id"}); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	cmd := at(calls[0].req, "plan", "command", "createDataframeView")
	want := map[string]any{
		"name": "dedup", "replace": true,
		"input": map[string]any{"deduplicate": map[string]any{
			"input":       map[string]any{"read": map[string]any{"namedTable": map[string]any{"unparsedIdentifier": "valid"}}},
			"columnNames": []any{"event_id"}, "withinWatermark": true}},
	}
	if !reflect.DeepEqual(cmd, want) {
		t.Errorf("createDataframeView\n got %v\nwant %v", cmd, want)
	}
}
