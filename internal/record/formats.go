package record

// Format documents one topic's records: docs/records.md is rendered from
// Formats (TestRecordsDocIsCurrent; go test ./internal/record -update
// rewrites it), with the fields of Value's JSON form and their comments
// read from this package's source.
type Format struct {
	Topic    string   // the kafka.Topics field naming the topic
	Key      string   // the record key
	Encoding string   // how the value is encoded
	Value    string   // the Go type of the value's JSON form in this package; "" when not JSON of a type here
	Headers  []string // the headers, "name: meaning"
	Writers  string   // who produces the records
	Readers  string   // who reads them
	Notes    string   // anything else
}

// Formats lists the pipeline's topics in data-flow order.
func Formats() []Format {
	return []Format{
		{Topic: "Raw", Key: "player_id", Encoding: "binary Protobuf (the default) or JSON, as the setting --raw-encoding of the gateway and the simulator says (Encoding), named in every record by the header: " +
			"Protobuf is `gamepulse.v1.Event` (proto/gamepulse/v1/event.proto; package event); " +
			"JSON is one object per record, the event's JSON form exactly as event.AppendJSON writes it (protojson with proto field names), for a stream processor that cannot decode Protobuf (Spark)",
			Headers: []string{HeaderContentType + ": " + ContentTypeProtobuf + " or " + ContentTypeJSON + " (RawHeaders); a record without it is Protobuf (written before the header existed; RawEncoding)"},
			Writers: "gateway, `gamepulse simulate --brokers`", Readers: "processor stage 1 (jobs, by RawEncoding of the headers), `gamepulse tail`",
			Notes: "The gateway stamps received_at, the game id of the API key and (when unset) schema_version into the event, in either encoding. " +
				"A value that does not decode in its record's encoding (or a content type naming neither) is a malformed dead letter; a JSON value is read by the event package's JSON event decoder (event.DecodeJSONEvent), the gateway's."},
		{Topic: "DeadLetter", Key: "the raw record's key", Encoding: "the raw record's value, unchanged (binary Protobuf or JSON, or the bytes that failed to decode)",
			Headers: []string{HeaderCode + ": why, a validation code (event.Validate's, e.g. invalid_value)", HeaderReason + ": why, for a person",
				deliveryHeader("source_topic, source_partition, source_offset; a dead letter whose source is unknown is always loaded"),
				HeaderSourceTopic + ": the topic the record came from", HeaderSourcePartition + ": its partition (decimal)",
				HeaderSourceOffset + ": its offset (decimal)", HeaderContentType + ": the raw record's, when it had one (how to read the value)"},
			Writers: "processor stage 1 (DeadLetter.Headers)", Readers: "loader → dead_letters (DecodeDeadLetter), `gamepulse tail`",
			Notes: "Missing headers decode as empty strings and -1; a malformed or negative number is an error."},
		{Topic: "Enriched", Key: "player_id (EnrichedKey)", Encoding: "JSON: the event's JSON (event.AppendJSON, protojson names) plus the member \"enrichment\" (AppendEnriched)",
			Value: "Enrichment", Headers: []string{deliveryHeader("event_id")}, Writers: "processor stage 1 (jobs.Enriched.AppendJSON)", Readers: "loader → events (DecodeEnriched), `gamepulse tail`",
			Notes: "The fields below are the members of \"enrichment\". The event's members are the schema's; the loader puts the member named by event_type in payload and unknown members in extra."},
		{Topic: "Late", Key: "player_id", Encoding: "the enriched record, unchanged",
			Value:   "Enrichment",
			Headers: []string{LateHeader + ": the watermark (RFC 3339, UTC) the event's time was more than a minute behind (LateHeaders)"},
			Writers: "processor stage 1", Readers: "`gamepulse tail` (the warehouse does not load it: the event is in events already)"},
		{Topic: "Sessions", Key: "session_id", Encoding: "JSON", Value: "Session",
			Headers: []string{deliveryHeader("session_id and start: the two parts of a session split by a gap are two rows")},
			Writers: "processor stage 1 (jobs, rule 5)", Readers: "loader → sessions (DecodeSession), `gamepulse tail`",
			Notes: "A session id split by an inactivity gap yields two records with the same key and different start."},
		{Topic: "KPIPartials", Key: "a partial: \"game|platform|country\" of its row (PartialKey); a ledger delta: \"game|platform|build\" (CompletenessKey.PartitionKey); a mark: \"mark\" (MarkKey), written to every partition",
			Encoding: "binary (Partial, Mark, LedgerDelta; DecodePartials): kind byte (1 partial, 2 mark, 3 ledger), version byte 1, varint source partition, then by kind — " +
				"partial: uvarint-prefixed KPI key, then the aggregate in kpi's binary form (kpi.Aggregate.AppendEncode: version 1, 12 varint counters, levels, two HyperLogLog sketches); " +
				"mark: varint watermark (Unix ms), idle byte 0/1; " +
				"ledger: uvarint-prefixed game, platform, build, then varints minute (Unix ms), gaps, duplicates, out_of_order",
			Writers: "processor stage 1", Readers: "processor stage 2, `gamepulse tail`",
			Notes: "Internal to the processor; a second engine must write the same bytes for stage 2 to read them."},
		{Topic: "KPI", Key: "a KPI row: \"minute|2026-11-25T18:04:00Z|game|platform|country\" or \"hour|…\" (KPIKey; \"*\" platform and country for a game-level row); a completeness row: \"completeness|minute|start|game|platform|build\" (CompletenessKey.String)",
			Encoding: "JSON: a KPI row (KPI) or a completeness row (Completeness), told apart by the key's first field (DecodeKPI)",
			Value:    "KPI",
			Headers:  []string{deliveryHeader("the record key: a copy repeats its row, version and sums, and the upsert changes nothing")},
			Writers:  "processor stage 2 (kpi.Merger: provisional rows, final rows, corrections with a higher version)",
			Readers:  "loader → kpi_minute, kpi_hour, completeness (DecodeKPI), `gamepulse tail`",
			Notes:    "The topic is compacted: the latest version of a row wins. The completeness row's fields are listed under Completeness below."},
		{Topic: "Alerts", Key: "\"rule|subject\" (AlertKey)", Encoding: "JSON, one shape for every rule (Alert)", Value: "alertJSON",
			Headers: []string{deliveryHeader("rule, subject, window start")},
			Writers: "processor stage 1 (jobs: player rules) and stage 2 (kpi: game rules)", Readers: "loader → alerts (DecodeAlert), `gamepulse tail`",
			Notes: "DecodeAlert also reads the forms written before this shape: a window that is a start alone (one minute) and an alert without game_id (the subject is the game)."},
	}
}
