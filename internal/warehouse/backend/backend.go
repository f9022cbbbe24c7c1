// Package backend opens the warehouse a URL names, on the backend its
// scheme names: the one place that knows every backend, so that commands
// and tests take a URL and the warehouse, duckdb and snowflake packages
// know nothing of each other's existence.
//
//	duckdb:///abs/path/file.duckdb    duckdb.Open / duckdb.OpenExisting
//	duckdb:rel/path/file.duckdb
//	snowflake://DSN                   snowflake.Open (DSN: gosnowflake's, see snowflake.Open)
//
// A new backend adds its scheme to Open.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
	"github.com/gamepulse/gamepulse/internal/warehouse/snowflake"
)

// ErrNoWarehouse is returned, wrapped, when a reader or a writer that needs
// an existing warehouse finds none (duckdb.ErrNoWarehouse).
var ErrNoWarehouse = duckdb.ErrNoWarehouse

// Use is what the opener does with the warehouse.
type Use int

// The uses.
const (
	// Create: load, demo. A DuckDB file is created if needed (and its
	// directory); the schema is migrated.
	Create Use = iota
	// Write: replay. The warehouse must exist; the schema is migrated.
	Write
	// Read: query, kpis, reconcile. The warehouse must exist
	// (duckdb.ErrNoWarehouse); a DuckDB file is opened read-only; no
	// migrations.
	Read
)

// URLError is the error of a URL that names no warehouse. A command maps
// it to the flag or setting the URL came from.
type URLError struct {
	URL string
	Err error
}

func (e *URLError) Error() string {
	return "warehouse URL " + strconv.Quote(e.URL) + ": " + e.Err.Error()
}

func (e *URLError) Unwrap() error { return e.Err }

// Open opens the warehouse rawURL names for use. Only the writers migrate
// it; a reader that finds no warehouse fails (duckdb.ErrNoWarehouse)
// rather than report on an empty one.
func Open(ctx context.Context, rawURL string, use Use) (warehouse.Warehouse, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &URLError{rawURL, err}
	}
	var wh warehouse.Warehouse
	switch u.Scheme {
	case "duckdb":
		path := u.Path // duckdb:///abs/path
		if u.Opaque != "" {
			path = u.Opaque // duckdb:rel/path
		}
		if u.Host != "" || path == "" {
			return nil, &URLError{rawURL, errors.New("want duckdb:///abs/path/file.duckdb or duckdb:rel/path/file.duckdb")}
		}
		if use == Create {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			wh, err = duckdb.Open(path)
		} else {
			wh, err = duckdb.OpenExisting(path, use == Read)
		}
		if err != nil {
			return nil, err
		}
	case "snowflake":
		// snowflake://user:password@account/DB/SCHEMA?warehouse=W&role=R
		// is gosnowflake's DSN after the scheme (see snowflake.Open).
		if wh, err = snowflake.Open(strings.TrimPrefix(rawURL, "snowflake://")); err != nil {
			return nil, err
		}
	default:
		return nil, &URLError{rawURL, fmt.Errorf("unknown scheme %q (duckdb or snowflake)", u.Scheme)}
	}
	if use == Read {
		return wh, nil
	}
	if err := wh.Migrate(ctx); err != nil {
		wh.Close()
		return nil, err
	}
	return wh, nil
}
