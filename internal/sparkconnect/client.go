package sparkconnect

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	// Registers the spark.connect.* descriptors (the generated code of
	// spark-connect-go is internal; this small public package imports it).
	_ "github.com/apache/spark-connect-go/spark/sql/utils"
)

const (
	service = "/spark.connect.SparkConnectService/"
	// clientType is reported to the server with every request (its logs and UI show it).
	clientType = "gamepulse"
	// maxRecvBytes bounds one response message; Spark sends Arrow batches of
	// up to spark.connect.grpc.arrow.maxBatchSize (4 MiB by default) in one.
	maxRecvBytes = 128 << 20
)

// Option configures Dial.
type Option func(*options)

type options struct {
	sessionID string
	userID    string
	dialOpts  []grpc.DialOption
}

// WithSessionID makes the client use the Spark Connect session id (a UUID)
// instead of a new random one. Streaming queries belong to the session that
// started them: a process that restarts with the same session id finds its
// queries with Active and can stop them. It overrides the remote's
// session_id parameter.
func WithSessionID(id string) Option { return func(o *options) { o.sessionID = id } }

// WithUserID names the user in every request (overrides the remote's user_id).
func WithUserID(id string) Option { return func(o *options) { o.userID = id } }

// WithDialOptions adds gRPC dial options (e.g. interceptors in tests).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// Client is a connection to a Spark Connect server, bound to one session.
// It is safe for concurrent use.
type Client struct {
	conn      *grpc.ClientConn
	remote    Remote
	sessionID string
	userID    string
	userAgent string
	md        metadata.MD

	mu sync.Mutex
	// serverSession is the server-side id of the session last seen in a
	// response: it changes when the server restarts (the new server has a new
	// session of the same id, without the old one's views and queries).
	serverSession string
}

// Dial parses remote (sc://HOST:PORT[/;param=value...]) and prepares a
// client. It does not contact the server (gRPC connects on the first call):
// call Version to check that the server answers.
func Dial(ctx context.Context, remote string, opts ...Option) (*Client, error) {
	_ = ctx // kept for the API: connecting is lazy
	r, err := ParseRemote(remote)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{remote: r, sessionID: r.SessionID, userID: r.UserID, userAgent: r.UserAgent}
	if o.sessionID != "" {
		if !uuidRE.MatchString(o.sessionID) {
			return nil, fmt.Errorf("sparkconnect: session id %q is not a UUID", o.sessionID)
		}
		c.sessionID = o.sessionID
	}
	if c.sessionID == "" {
		c.sessionID = uuid.NewString()
	}
	if o.userID != "" {
		c.userID = o.userID
	}
	if c.userAgent == "" {
		c.userAgent = clientType
	}
	c.md = metadata.New(r.Headers)
	if r.Token != "" {
		c.md.Set("authorization", "Bearer "+r.Token)
	}
	dopts := []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvBytes)),
		// Reconnect within seconds once a restarted server listens again
		// (gRPC's default backoff grows to two minutes while it is down).
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 500 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: 10 * time.Second,
		}),
	}
	if r.UseSSL {
		dopts = append(dopts, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{ServerName: r.Host, MinVersion: tls.VersionTLS12})))
	} else {
		dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	dopts = append(dopts, o.dialOpts...)
	conn, err := grpc.NewClient(r.Addr(), dopts...)
	if err != nil {
		return nil, fmt.Errorf("sparkconnect: dial %s: %w", r, err)
	}
	c.conn = conn
	return c, nil
}

// Close closes the connection. The server keeps the session (and its
// streaming queries) until its idle timeout; Stop queries first to end them.
func (c *Client) Close() error { return c.conn.Close() }

// SessionID is the Spark Connect session id the client uses.
func (c *Client) SessionID() string { return c.sessionID }

// Remote is the parsed remote the client talks to.
func (c *Client) Remote() Remote { return c.remote }

// ServerSessionID is the server's id of the session as last seen in a
// response ("" before the first call). A different value after a call means
// the server was restarted: the session's temporary views, confs and
// queries are gone, and queries must be started again (from their
// checkpoints).
func (c *Client) ServerSessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.serverSession
}

func (c *Client) observe(serverSession string) {
	if serverSession == "" {
		return
	}
	c.mu.Lock()
	c.serverSession = serverSession
	c.mu.Unlock()
}

func (c *Client) outgoing(ctx context.Context) context.Context {
	if len(c.md) == 0 {
		return ctx
	}
	return metadata.NewOutgoingContext(ctx, c.md)
}

// header are the fields every request starts with.
func (c *Client) header() map[string]any {
	h := map[string]any{
		"sessionId":  c.sessionID,
		"clientType": c.userAgent,
	}
	if c.userID != "" {
		h["userContext"] = map[string]any{"userId": c.userID}
	} else {
		h["userContext"] = map[string]any{}
	}
	return h
}

// newMessage builds a spark.connect message of the given name from a
// JSON-shaped Go value (protojson field names).
func newMessage(name string, v any) (*dynamicpb.Message, error) {
	mt, err := messageType(name)
	if err != nil {
		return nil, err
	}
	m := dynamicpb.NewMessage(mt)
	if v == nil {
		return m, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sparkconnect: encode %s: %w", name, err)
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("sparkconnect: build %s: %w", name, err)
	}
	return m, nil
}

func messageType(name string) (protoreflect.MessageDescriptor, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName("spark.connect." + name))
	if err != nil {
		return nil, fmt.Errorf("sparkconnect: no descriptor for spark.connect.%s: %w", name, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("sparkconnect: spark.connect.%s is not a message", name)
	}
	return md, nil
}

// toJSON decodes a response message into a Go struct through its protojson
// form (field names in lowerCamelCase, 64-bit integers as strings, bytes as
// base64, which encoding/json decodes into []byte).
func toJSON(m proto.Message, v any) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return fmt.Errorf("sparkconnect: decode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sparkconnect: decode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// unary calls a unary RPC with request and response built from descriptors.
func (c *Client) unary(ctx context.Context, method, reqType string, req any, respType string) (*dynamicpb.Message, error) {
	in, err := newMessage(reqType, req)
	if err != nil {
		return nil, err
	}
	mt, err := messageType(respType)
	if err != nil {
		return nil, err
	}
	out := dynamicpb.NewMessage(mt)
	if err := c.conn.Invoke(c.outgoing(ctx), service+method, in, out); err != nil {
		return nil, wrapError(method, err)
	}
	return out, nil
}

// execResponse is the part of an ExecutePlanResponse this package reads.
type execResponse struct {
	ServerSideSessionID string `json:"serverSideSessionId"`
	ArrowBatch          *struct {
		RowCount int64  `json:"rowCount,string"`
		Data     []byte `json:"data"`
	} `json:"arrowBatch"`
	WriteStreamOperationStartResult *struct {
		QueryID queryID `json:"queryId"`
		Name    string  `json:"name"`
	} `json:"writeStreamOperationStartResult"`
	StreamingQueryCommandResult *struct {
		Status *struct {
			StatusMessage   string `json:"statusMessage"`
			IsDataAvailable bool   `json:"isDataAvailable"`
			IsTriggerActive bool   `json:"isTriggerActive"`
			IsActive        bool   `json:"isActive"`
		} `json:"status"`
		RecentProgress *struct {
			RecentProgressJSON []string `json:"recentProgressJson"`
		} `json:"recentProgress"`
		Exception *struct {
			ExceptionMessage *string `json:"exceptionMessage"`
			ErrorClass       *string `json:"errorClass"`
			StackTrace       *string `json:"stackTrace"`
		} `json:"exception"`
		AwaitTermination *struct {
			Terminated bool `json:"terminated"`
		} `json:"awaitTermination"`
	} `json:"streamingQueryCommandResult"`
	StreamingQueryManagerCommandResult *struct {
		Active *struct {
			ActiveQueries []queryInstance `json:"activeQueries"`
		} `json:"active"`
		Query *queryInstance `json:"query"`
	} `json:"streamingQueryManagerCommandResult"`
}

type queryID struct {
	ID    string `json:"id"`
	RunID string `json:"runId"`
}

type queryInstance struct {
	ID   queryID `json:"id"`
	Name *string `json:"name"`
}

func (q queryInstance) ref() QueryRef {
	r := QueryRef{ID: q.ID.ID, RunID: q.ID.RunID}
	if q.Name != nil {
		r.Name = *q.Name
	}
	return r
}

// execution is what one ExecutePlan call returned.
type execution struct {
	responses []execResponse
	// sqlRelation is the relation of a SqlCommandResult, kept as a message
	// (not JSON) so that fields newer than our descriptors survive the trip
	// back to the server.
	sqlRelation protoreflect.Message
}

// execute runs ExecutePlan with plan (a JSON-shaped spark.connect.Plan) or,
// when root is set, a plan of that relation; it reads the stream to its end.
func (c *Client) execute(ctx context.Context, op string, plan map[string]any, root protoreflect.Message) (*execution, error) {
	req := c.header()
	req["operationId"] = uuid.NewString()
	if plan != nil {
		req["plan"] = plan
	}
	in, err := newMessage("ExecutePlanRequest", req)
	if err != nil {
		return nil, err
	}
	if root != nil {
		pf := in.Descriptor().Fields().ByName("plan")
		p := in.Mutable(pf).Message()
		p.Set(p.Descriptor().Fields().ByName("root"), protoreflect.ValueOfMessage(root))
	}
	rt, err := messageType("ExecutePlanResponse")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.conn.NewStream(c.outgoing(ctx), &grpc.StreamDesc{ServerStreams: true}, service+"ExecutePlan")
	if err != nil {
		return nil, wrapError(op, err)
	}
	if err := stream.SendMsg(in); err != nil {
		return nil, wrapError(op, err)
	}
	if err := stream.CloseSend(); err != nil {
		return nil, wrapError(op, err)
	}
	ex := &execution{}
	sqlResult := rt.Fields().ByName("sql_command_result")
	for {
		out := dynamicpb.NewMessage(rt)
		if err := stream.RecvMsg(out); err != nil {
			if errors.Is(err, io.EOF) {
				return ex, nil
			}
			return nil, wrapError(op, err)
		}
		var r execResponse
		if err := toJSON(out, &r); err != nil {
			return nil, err
		}
		c.observe(r.ServerSideSessionID)
		if out.Has(sqlResult) {
			res := out.Get(sqlResult).Message()
			ex.sqlRelation = res.Get(res.Descriptor().Fields().ByName("relation")).Message()
		}
		ex.responses = append(ex.responses, r)
	}
}

// command executes a spark.connect.Command given in its JSON form.
func (c *Client) command(ctx context.Context, op string, cmd map[string]any) (*execution, error) {
	return c.execute(ctx, op, map[string]any{"command": cmd}, nil)
}

// Version returns the server's Spark version. It is the cheapest call that
// proves the server answers.
func (c *Client) Version(ctx context.Context) (string, error) {
	req := c.header()
	req["sparkVersion"] = map[string]any{}
	out, err := c.unary(ctx, "AnalyzePlan", "AnalyzePlanRequest", req, "AnalyzePlanResponse")
	if err != nil {
		return "", err
	}
	var r struct {
		ServerSideSessionID string `json:"serverSideSessionId"`
		SparkVersion        struct {
			Version string `json:"version"`
		} `json:"sparkVersion"`
	}
	if err := toJSON(out, &r); err != nil {
		return "", err
	}
	c.observe(r.ServerSideSessionID)
	return r.SparkVersion.Version, nil
}

// Conf sets runtime configuration of the session (spark.conf.set).
func (c *Client) Conf(ctx context.Context, conf map[string]string) error {
	if len(conf) == 0 {
		return nil
	}
	pairs := make([]map[string]any, 0, len(conf))
	for k, v := range conf {
		pairs = append(pairs, map[string]any{"key": k, "value": v})
	}
	req := c.header()
	req["operation"] = map[string]any{"set": map[string]any{"pairs": pairs}}
	out, err := c.unary(ctx, "Config", "ConfigRequest", req, "ConfigResponse")
	if err != nil {
		return err
	}
	var r struct {
		ServerSideSessionID string `json:"serverSideSessionId"`
	}
	if err := toJSON(out, &r); err != nil {
		return err
	}
	c.observe(r.ServerSideSessionID)
	return nil
}

// SQL runs a statement and returns the rows of its result, one map per row
// keyed by column name (small results only: all rows are held in memory).
// Statements without a result (CREATE, SET ...) return their command output
// (often no rows). Values are what Arrow's JSON form gives: numbers as
// int64/uint64/float64 (of the column's width), strings, bools, timestamps
// as RFC 3339 strings (UTC: the session time zone of scripts/spark.sh),
// structs as map[string]any, arrays as []any, NULL as nil.
func (c *Client) SQL(ctx context.Context, query string) ([]map[string]any, error) {
	ex, err := c.command(ctx, "sql", map[string]any{"sqlCommand": map[string]any{"sql": query}})
	if err != nil {
		return nil, err
	}
	if ex.sqlRelation == nil {
		return nil, errors.New("sparkconnect: sql: the server returned no result relation")
	}
	res, err := c.execute(ctx, "sql", nil, ex.sqlRelation)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for _, r := range res.responses {
		if r.ArrowBatch == nil {
			continue
		}
		batch, err := decodeArrow(r.ArrowBatch.Data)
		if err != nil {
			return nil, fmt.Errorf("sparkconnect: sql: %w", err)
		}
		rows = append(rows, batch...)
	}
	return rows, nil
}

// CreateStreamView registers a temporary view (replacing one of that name)
// over a streaming read: spark.readStream.format(format).options(options).load().
func (c *Client) CreateStreamView(ctx context.Context, name, format string, options map[string]string) error {
	ds := map[string]any{"format": format}
	if len(options) > 0 {
		ds["options"] = options
	}
	return c.createView(ctx, name, map[string]any{"read": map[string]any{"dataSource": ds, "isStreaming": true}})
}

// CreateView registers a temporary view (replacing one of that name) over a
// SQL query; the query may read streaming views, and the view is then
// streaming too.
func (c *Client) CreateView(ctx context.Context, name, query string) error {
	return c.createView(ctx, name, map[string]any{"sql": map[string]any{"query": query}})
}

func (c *Client) createView(ctx context.Context, name string, input map[string]any) error {
	_, err := c.command(ctx, "create view "+name, map[string]any{"createDataframeView": map[string]any{
		"input": input, "name": name, "isGlobal": false, "replace": true,
	}})
	return err
}
