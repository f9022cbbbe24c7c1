package sparkconnect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is an error the Spark Connect server returned: Spark's message and,
// when the server sent them, its error class and SQLSTATE.
type Error struct {
	// Op is what the client was doing ("sql", "start query kpis", ...).
	Op string
	// Code is the gRPC status code (Unavailable when the server is down).
	Code codes.Code
	// Message is Spark's message, e.g. "[PARSE_SYNTAX_ERROR] Syntax error at
	// or near 'SELEC'. SQLSTATE: 42601".
	Message string
	// ErrorClass is Spark's error class (e.g. PARSE_SYNTAX_ERROR,
	// STREAMING_QUERY_NOT_FOUND... see Spark's error-conditions.json).
	ErrorClass string
	// SQLState is the SQLSTATE of the error, when it has one.
	SQLState string
	// Exception is the JVM exception class (e.g.
	// org.apache.spark.sql.catalyst.parser.ParseException).
	Exception string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sparkconnect: %s: %s", e.Op, e.Message)
}

// ErrorClass returns Spark's error class of err, or "" when err does not
// come from Spark or has none.
func ErrorClass(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrorClass
	}
	return ""
}

// wrapError turns a gRPC error into an *Error carrying Spark's details; a
// context error stays recognisable with errors.Is.
func wrapError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sparkconnect: %s: %w", op, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("sparkconnect: %s: %w", op, err)
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("sparkconnect: %s: %w", op, context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("sparkconnect: %s: %w", op, context.DeadlineExceeded)
	}
	e := &Error{Op: op, Code: st.Code(), Message: st.Message()}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		e.Exception = info.GetReason()
		md := info.GetMetadata()
		e.ErrorClass = md["errorClass"]
		e.SQLState = md["sqlState"]
		if e.Exception == "" {
			var classes []string
			if json.Unmarshal([]byte(md["classes"]), &classes) == nil && len(classes) > 0 {
				e.Exception = classes[0]
			}
		}
	}
	if e.Message == "" {
		e.Message = st.Code().String()
	}
	return e
}
