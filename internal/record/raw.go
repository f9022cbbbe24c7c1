package record

// The raw topic's records carry the event in one of two encodings, named by
// the header HeaderContentType. Protobuf is the default; JSON is for
// deployments whose stream processor cannot decode Protobuf (Spark). A raw
// record without the header is Protobuf: the records written before the
// header existed.
const (
	HeaderContentType   = "content-type"
	ContentTypeProtobuf = "application/x-protobuf"
	ContentTypeJSON     = "application/json"
)

// Encoding is how a raw record's value encodes its event.
type Encoding uint8

// The raw encodings.
const (
	// EncodingProtobuf: the binary Protobuf gamepulse.v1.Event.
	EncodingProtobuf Encoding = iota
	// EncodingJSON: one JSON object, the event's JSON form as
	// event.AppendJSON writes it (protojson, proto field names).
	EncodingJSON
	// EncodingUnknown: a content-type header naming neither; a reader
	// dead-letters such a record (it cannot know what the bytes are).
	EncodingUnknown
)

// ParseEncoding reads a setting's value: "protobuf" or "json".
func ParseEncoding(s string) (Encoding, bool) {
	switch s {
	case "protobuf":
		return EncodingProtobuf, true
	case "json":
		return EncodingJSON, true
	}
	return EncodingUnknown, false
}

// String returns the setting's value: "protobuf", "json" or "unknown".
func (e Encoding) String() string {
	switch e {
	case EncodingProtobuf:
		return "protobuf"
	case EncodingJSON:
		return "json"
	}
	return "unknown"
}

// ContentType returns the value of the content-type header of a raw record
// in encoding e ("" for EncodingUnknown).
func (e Encoding) ContentType() string {
	switch e {
	case EncodingProtobuf:
		return ContentTypeProtobuf
	case EncodingJSON:
		return ContentTypeJSON
	}
	return ""
}

// RawHeaders returns the headers of a raw record in encoding e. Writers may
// share the returned slice between records: nothing writes into it.
func RawHeaders(e Encoding) []Header {
	return []Header{{Key: HeaderContentType, Value: []byte(e.ContentType())}}
}

// RawEncoding returns the encoding of a raw record from its headers:
// EncodingProtobuf without a content-type header, EncodingUnknown for a
// content type that is neither (the last content-type header counts). It
// takes this package's Header or any type of the same shape, such as
// kgo.RecordHeader, so that a consumer need not copy a record's headers.
func RawEncoding[H ~struct {
	Key   string
	Value []byte
}](headers []H) Encoding {
	enc := EncodingProtobuf
	for _, x := range headers {
		h := Header(x)
		if h.Key != HeaderContentType {
			continue
		}
		switch string(h.Value) {
		case ContentTypeProtobuf:
			enc = EncodingProtobuf
		case ContentTypeJSON:
			enc = EncodingJSON
		default:
			enc = EncodingUnknown
		}
	}
	return enc
}
