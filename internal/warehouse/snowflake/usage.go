package snowflake

import (
	"context"
	"database/sql"
	"sync/atomic"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// usage is a sink's live warehouse.Usage.
type usage struct {
	statements, transactions, bytes atomic.Int64
}

func (u *usage) snapshot() warehouse.Usage {
	return warehouse.Usage{Statements: u.statements.Load(), Transactions: u.transactions.Load(), SentBytes: u.bytes.Load()}
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
func (s *Warehouse) Usage() warehouse.Usage { return s.u.snapshot() }
