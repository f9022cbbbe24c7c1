package sparkconnect

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// decodeArrow reads the rows of one Arrow IPC stream (what Spark Connect
// sends in an ArrowBatch: a schema and record batches), one map per row.
// Values are Arrow's JSON-ready form of each cell (GetOneForMarshal).
func decodeArrow(data []byte) ([]map[string]any, error) {
	rd, err := ipc.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("arrow batch: %w", err)
	}
	defer rd.Release()
	fields := rd.Schema().Fields()
	var rows []map[string]any
	for rd.Next() {
		rec := rd.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make(map[string]any, len(fields))
			for c, f := range fields {
				row[f.Name] = rec.Column(c).GetOneForMarshal(i)
			}
			rows = append(rows, row)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("arrow batch: %w", err)
	}
	return rows, nil
}
