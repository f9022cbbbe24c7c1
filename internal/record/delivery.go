package record

// The delivery header marks the records of a producer that may write a
// record twice: Spark Structured Streaming's Kafka sink is at-least-once,
// and after a restart from its checkpoint it writes a micro-batch again,
// the same records at new offsets. The loader's exactly-once protocol is
// per Kafka offset, so it would load such copies twice; for a record with
// this header it loads the row only when no row with the same natural key
// is loaded (warehouse.Batch.AtLeastOnce). The Go engine writes each record
// once (Kafka transactions) and sets no header: its rows take the loader's
// plain path.
const (
	HeaderDelivery      = "delivery"
	DeliveryAtLeastOnce = "at-least-once"
)

// AtLeastOnceHeaders returns the headers an at-least-once producer adds to
// each record it writes to the enriched, sessions, dead-letter, KPI and
// alerts topics.
func AtLeastOnceHeaders() []Header {
	return []Header{{Key: HeaderDelivery, Value: []byte(DeliveryAtLeastOnce)}}
}

// AtLeastOnce reports whether headers hold the delivery header with the
// value at-least-once (exactly, as AtLeastOnceHeaders writes it). It takes
// []Header and []kgo.RecordHeader alike, without a copy: the loader asks it
// of every record.
func AtLeastOnce[H ~struct {
	Key   string
	Value []byte
}](headers []H) bool {
	for _, h := range headers {
		if h := Header(h); h.Key == HeaderDelivery && string(h.Value) == DeliveryAtLeastOnce {
			return true
		}
	}
	return false
}

// deliveryHeader documents the delivery header in Formats for a topic whose
// rows have the natural key key.
func deliveryHeader(key string) string {
	return HeaderDelivery + ": `" + DeliveryAtLeastOnce + "` from a producer that may write a record twice (Spark's at-least-once Kafka sink; AtLeastOnceHeaders), absent otherwise: " +
		"the loader skips a row whose key is already loaded (" + key + ")"
}
