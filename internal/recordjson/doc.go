// Package recordjson prints Kafka records of the pipeline's topics as JSON
// lines, one line per record whatever its bytes: position, key, headers and
// the value decoded by what its topic holds — raw events and dead letters
// through the event schema in the encoding their content-type header names
// (record.RawEncoding: event.Unmarshal or event.DecodeJSONEvent, then
// event.MarshalJSON), the
// processor's JSON outputs as they are, the internal partials topic through
// record.DecodePartials (a partial's aggregate shown as its KPI row) — or,
// when it cannot be decoded, as
// base64 with the reason. `gamepulse tail` is its user. It does no I/O.
package recordjson
