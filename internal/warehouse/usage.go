package warehouse

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// Usage counts what a warehouse was asked to do since it was opened: the
// drivers of its cost on Snowflake besides the time its warehouse runs
// (which the loader estimates).
type Usage struct {
	Statements   int64 // SQL statements sent, reads included
	Transactions int64 // transactions committed
	SentBytes    int64 // SQL text and bound values sent
}

// usage is a sink's live Usage.
type usage struct {
	statements, transactions, bytes atomic.Int64
}

func (u *usage) snapshot() Usage {
	return Usage{Statements: u.statements.Load(), Transactions: u.transactions.Load(), SentBytes: u.bytes.Load()}
}

func (u *usage) count(q string, args []any) {
	n := len(q)
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		default:
			n += 8
		}
	}
	u.statements.Add(1)
	u.bytes.Add(int64(n))
}

// sqlTx is what the Snowflake statements need of a transaction.
type sqlTx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// countingTx is a transaction that counts its statements into a usage.
type countingTx struct {
	tx *sql.Tx
	u  *usage
}

func (c countingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.u.count(q, args)
	return c.tx.ExecContext(ctx, q, args...)
}

func (c countingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.u.count(q, args)
	return c.tx.QueryContext(ctx, q, args...)
}

// Usage returns what the sink sent to Snowflake since it was opened.
func (s *Snowflake) Usage() Usage { return s.u.snapshot() }
