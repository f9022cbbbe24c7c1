-- gamepulse_checked: every raw record, parsed and validated (rule 1, and
-- the currency check of rule 4), with its dead-letter code and reason (NULL
-- for a valid event) and its signed revenue in micro-USD (rule 4).
--
-- Input: ${raw_view}, a streaming Kafka read of the raw topic (key, value,
-- topic, partition, offset, headers). A record's encoding is its last
-- content-type header (record.RawEncoding): application/json is read; a
-- record without one, or with application/x-protobuf, is Protobuf, which
-- Spark cannot decode (a malformed dead letter here, read by the Go
-- engine); any other content type is malformed, as in the Go engine.
-- JSON values are the raw topic's JSON form:
-- event.AppendJSON's (protojson names, int64/uint64 as strings, timestamps
-- as RFC 3339 strings, the payload as the member named by its oneof field).
-- The checks and their order are internal/jobs' Validator.Check; the
-- reasons are its sentences.
WITH parsed AS (
  SELECT
    key, value, topic, partition, offset, headers,
    element_at(filter(headers, h -> h.key = 'content-type'), -1).value AS content_type,
    CAST(value AS STRING) AS json,
    from_json(CAST(value AS STRING), ${event_schema}) AS e
  FROM ${raw_view}
),
fields AS (
  SELECT
    key, value, topic, partition, offset, headers, e,
    CASE
      WHEN content_type IS NULL OR content_type = CAST('application/x-protobuf' AS BINARY) THEN 'protobuf'
      WHEN content_type = CAST('application/json' AS BINARY) THEN 'json'
      ELSE 'unknown'
    END AS encoding,
    -- a valid JSON object: what protojson decodes at all
    (e IS NOT NULL AND try_parse_json(json) IS NOT NULL AND startswith(ltrim(json), '{')) AS decoded,
    coalesce(e.schema_version, 0) AS schema_version,
    coalesce(e.event_id, '') AS event_id,
    coalesce(e.event_type, '') AS event_type,
    coalesce(e.game_id, '') AS game_id,
    coalesce(e.player_id, '') AS player_id,
    coalesce(e.session_id, '') AS session_id,
    coalesce(try_cast(e.seq AS DECIMAL(20, 0)), 0) AS seq,
    try_cast(e.client_time AS TIMESTAMP) AS client_ts,
    try_cast(e.received_at AS TIMESTAMP) AS received_ts,
    coalesce(e.country, '') AS country,
    -- the payload member that is set, by the oneof field's name
    CASE
      WHEN e.session_start IS NOT NULL THEN 'session_start'
      WHEN e.session_end IS NOT NULL THEN 'session_end'
      WHEN e.login IS NOT NULL THEN 'login'
      WHEN e.purchase IS NOT NULL THEN 'purchase'
      WHEN e.refund IS NOT NULL THEN 'refund'
      WHEN e.level_start IS NOT NULL THEN 'level_start'
      WHEN e.level_complete IS NOT NULL THEN 'level_complete'
      WHEN e.level_fail IS NOT NULL THEN 'level_fail'
      WHEN e.ad_impression IS NOT NULL THEN 'ad_impression'
      WHEN e.currency_earn IS NOT NULL THEN 'currency_earn'
      WHEN e.currency_spend IS NOT NULL THEN 'currency_spend'
      WHEN e.custom IS NOT NULL THEN 'custom'
      ELSE ''
    END AS payload,
    (CASE WHEN e.session_start IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN e.session_end IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN e.login IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN e.purchase IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN e.refund IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN e.level_start IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN e.level_complete IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN e.level_fail IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN e.ad_impression IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN e.currency_earn IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN e.currency_spend IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN e.custom IS NOT NULL THEN 1 ELSE 0 END) AS payloads,
    -- the money of a purchase, refund or ad impression: amount, currency
    -- (empty meaning USD, compared case-insensitively) and sign
    CASE e.event_type
      WHEN 'purchase' THEN coalesce(e.purchase.price, 0D)
      WHEN 'refund' THEN coalesce(e.refund.amount, 0D)
      WHEN 'ad_impression' THEN coalesce(e.ad_impression.revenue, 0D)
    END AS amount,
    upper(CASE e.event_type
      WHEN 'purchase' THEN coalesce(nullif(e.purchase.currency, ''), 'USD')
      WHEN 'refund' THEN coalesce(nullif(e.refund.currency, ''), 'USD')
      WHEN 'ad_impression' THEN coalesce(nullif(e.ad_impression.currency, ''), 'USD')
    END) AS currency,
    CASE WHEN e.event_type = 'refund' THEN -1 ELSE 1 END AS sign,
    -- the first character of an id that checkID refuses, or '' (blank: ' ')
    CASE WHEN regexp_like(coalesce(e.event_id, ''), r'^(?U)\s+$') THEN ' ' ELSE regexp_extract(coalesce(e.event_id, ''), r'([\p{Cc}\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}])', 1) END AS event_id_bad,
    CASE WHEN regexp_like(coalesce(e.player_id, ''), r'^(?U)\s+$') THEN ' ' ELSE regexp_extract(coalesce(e.player_id, ''), r'([\p{Cc}\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}])', 1) END AS player_id_bad,
    CASE WHEN regexp_like(coalesce(e.session_id, ''), r'^(?U)\s+$') THEN ' ' ELSE regexp_extract(coalesce(e.session_id, ''), r'([\p{Cc}\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}])', 1) END AS session_id_bad,
    CASE WHEN regexp_like(coalesce(e.purchase.store_transaction_id, ''), r'^(?U)\s+$') THEN ' ' ELSE regexp_extract(coalesce(e.purchase.store_transaction_id, ''), r'([\p{Cc}\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}])', 1) END AS purchase_stx_bad,
    CASE WHEN regexp_like(coalesce(e.refund.store_transaction_id, ''), r'^(?U)\s+$') THEN ' ' ELSE regexp_extract(coalesce(e.refund.store_transaction_id, ''), r'([\p{Cc}\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}])', 1) END AS refund_stx_bad
  FROM parsed
),
priced AS (
  SELECT f.*, fx.rate,
    -- round(amount × rate × 1e6), half away from zero, left to right in float64
    CASE WHEN fx.rate IS NOT NULL THEN round(f.amount * fx.rate * 1000000D) END AS micros
  FROM fields f LEFT JOIN ${fx_view} fx ON fx.code = f.currency
),
checked AS (
  SELECT p.*,
    CASE
      WHEN encoding = 'unknown' THEN named_struct('code', 'malformed',
        'reason', 'record has a content-type header that is neither application/x-protobuf nor application/json')
      WHEN encoding = 'protobuf' THEN named_struct('code', 'malformed',
        'reason', 'record value is Protobuf, which the Spark engine cannot decode (the raw encoding must be JSON)')
      WHEN NOT decoded THEN named_struct('code', 'malformed', 'reason', 'record value is not a JSON Event: not a JSON object')
      WHEN payloads > 1 THEN named_struct('code', 'malformed', 'reason', 'record value is not a JSON Event: more than one payload member')
      WHEN schema_version > ${schema_version} THEN named_struct('code', 'unsupported_version',
        'reason', format_string('schema_version %d is not supported (newest: %d)', schema_version, ${schema_version}))
      WHEN event_id = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: event_id')
      WHEN octet_length(event_id) > 128 THEN named_struct('code', 'invalid_value', 'reason', 'event_id is longer than 128 bytes')
      WHEN event_id_bad <> '' THEN named_struct('code', 'invalid_value', 'reason', CASE WHEN event_id_bad = ' ' THEN 'event_id is blank' WHEN regexp_like(event_id_bad, r'\p{Cc}') THEN concat('event_id contains a control character (U+', lpad(upper(hex(ascii(event_id_bad))), 4, '0'), ')') ELSE concat('event_id contains a bidirectional formatting character (U+', lpad(upper(hex(ascii(event_id_bad))), 4, '0'), ')') END)
      WHEN event_type = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: event_type')
      WHEN event_type NOT IN ('session_start', 'session_end', 'login', 'purchase', 'refund', 'level_start',
          'level_complete', 'level_fail', 'ad_impression', 'currency_earn', 'currency_spend', 'custom')
        THEN named_struct('code', 'unknown_event_type', 'reason', concat('unknown event_type "', left(event_type, 64), '"'))
      WHEN player_id = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: player_id')
      WHEN octet_length(player_id) > 128 THEN named_struct('code', 'invalid_value', 'reason', 'player_id is longer than 128 bytes')
      WHEN player_id_bad <> '' THEN named_struct('code', 'invalid_value', 'reason', CASE WHEN player_id_bad = ' ' THEN 'player_id is blank' WHEN regexp_like(player_id_bad, r'\p{Cc}') THEN concat('player_id contains a control character (U+', lpad(upper(hex(ascii(player_id_bad))), 4, '0'), ')') ELSE concat('player_id contains a bidirectional formatting character (U+', lpad(upper(hex(ascii(player_id_bad))), 4, '0'), ')') END)
      WHEN event_type <> 'refund' AND session_id = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: session_id')
      WHEN event_type <> 'refund' AND seq = 0
        THEN named_struct('code', 'missing_field', 'reason', 'missing required field: seq (per-session sequence numbers start at 1)')
      WHEN octet_length(session_id) > 128 THEN named_struct('code', 'invalid_value', 'reason', 'session_id is longer than 128 bytes')
      WHEN session_id_bad <> '' THEN named_struct('code', 'invalid_value', 'reason', CASE WHEN session_id_bad = ' ' THEN 'session_id is blank' WHEN regexp_like(session_id_bad, r'\p{Cc}') THEN concat('session_id contains a control character (U+', lpad(upper(hex(ascii(session_id_bad))), 4, '0'), ')') ELSE concat('session_id contains a bidirectional formatting character (U+', lpad(upper(hex(ascii(session_id_bad))), 4, '0'), ')') END)
      WHEN e.client_time IS NULL THEN named_struct('code', 'missing_field', 'reason', 'missing required field: client_time')
      WHEN client_ts IS NULL THEN named_struct('code', 'invalid_value', 'reason', 'client_time is not a valid timestamp')
      WHEN country <> '' AND NOT regexp_like(country, '^[A-Za-z]{2}$')
        THEN named_struct('code', 'invalid_value', 'reason', concat('country "', left(country, 16), '" is not an ISO 3166-1 alpha-2 code'))
      WHEN payload = '' AND event_type NOT IN ('session_start', 'session_end', 'login')
        THEN named_struct('code', 'missing_field', 'reason', format_string('missing required field: %s (the payload of a %s event)', event_type, event_type))
      WHEN payload <> '' AND payload <> event_type THEN named_struct('code', 'payload_mismatch',
        'reason', format_string('event_type "%s" carries a %s payload; expected %s', event_type, payload, event_type))
      -- the payload's own checks (event.validatePayload)
      WHEN payload = 'purchase' AND coalesce(e.purchase.sku, '') = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: purchase.sku')
      WHEN payload = 'purchase' AND NOT (amount > 0D AND amount < double('Infinity') AND NOT isnan(amount))
        THEN named_struct('code', 'invalid_value', 'reason', 'purchase.price must be a finite number > 0')
      WHEN payload = 'purchase' AND amount > 1e9D THEN named_struct('code', 'invalid_value', 'reason', concat('purchase.price ', CAST(amount AS STRING), ' is above the limit of 1e+09 units of any currency'))
      WHEN payload = 'purchase' AND NOT regexp_like(coalesce(e.purchase.currency, ''), '^[A-Za-z]{3}$')
        THEN named_struct('code', 'invalid_value', 'reason', concat('purchase.currency "', left(coalesce(e.purchase.currency, ''), 16), '" is not an ISO 4217 code'))
      WHEN payload = 'purchase' AND coalesce(e.purchase.store_transaction_id, '') = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: purchase.store_transaction_id')
      WHEN payload = 'purchase' AND purchase_stx_bad <> '' THEN named_struct('code', 'invalid_value', 'reason', CASE WHEN purchase_stx_bad = ' ' THEN 'purchase.store_transaction_id is blank' WHEN regexp_like(purchase_stx_bad, r'\p{Cc}') THEN concat('purchase.store_transaction_id contains a control character (U+', lpad(upper(hex(ascii(purchase_stx_bad))), 4, '0'), ')') ELSE concat('purchase.store_transaction_id contains a bidirectional formatting character (U+', lpad(upper(hex(ascii(purchase_stx_bad))), 4, '0'), ')') END)
      WHEN payload = 'refund' AND coalesce(e.refund.store_transaction_id, '') = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: refund.store_transaction_id')
      WHEN payload = 'refund' AND (amount < 0D OR isnan(amount) OR amount = double('Infinity'))
        THEN named_struct('code', 'invalid_value', 'reason', 'refund.amount must be a finite number >= 0')
      WHEN payload = 'refund' AND amount > 1e9D THEN named_struct('code', 'invalid_value', 'reason', concat('refund.amount ', CAST(amount AS STRING), ' is above the limit of 1e+09 units of any currency'))
      WHEN payload = 'refund' AND coalesce(e.refund.currency, '') <> '' AND NOT regexp_like(e.refund.currency, '^[A-Za-z]{3}$')
        THEN named_struct('code', 'invalid_value', 'reason', concat('refund.currency "', left(e.refund.currency, 16), '" is not an ISO 4217 code'))
      WHEN payload = 'refund' AND refund_stx_bad <> '' THEN named_struct('code', 'invalid_value', 'reason', CASE WHEN refund_stx_bad = ' ' THEN 'refund.store_transaction_id is blank' WHEN regexp_like(refund_stx_bad, r'\p{Cc}') THEN concat('refund.store_transaction_id contains a control character (U+', lpad(upper(hex(ascii(refund_stx_bad))), 4, '0'), ')') ELSE concat('refund.store_transaction_id contains a bidirectional formatting character (U+', lpad(upper(hex(ascii(refund_stx_bad))), 4, '0'), ')') END)
      WHEN payload IN ('level_start', 'level_complete', 'level_fail')
          AND coalesce(e.level_start.level, e.level_complete.level, e.level_fail.level, 0) < 0
        THEN named_struct('code', 'invalid_value', 'reason', concat(payload, '.level must be >= 0'))
      WHEN payload IN ('level_start', 'level_complete', 'level_fail')
          AND coalesce(try_cast(coalesce(e.level_start.duration_ms, e.level_complete.duration_ms, e.level_fail.duration_ms) AS BIGINT), 0) < 0
        THEN named_struct('code', 'invalid_value', 'reason', concat(payload, '.duration_ms must be >= 0'))
      WHEN payload = 'ad_impression' AND coalesce(e.ad_impression.network, '') = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: ad_impression.network')
      WHEN payload = 'ad_impression' AND (amount < 0D OR isnan(amount) OR amount = double('Infinity'))
        THEN named_struct('code', 'invalid_value', 'reason', 'ad_impression.revenue must be a finite number >= 0')
      WHEN payload = 'ad_impression' AND amount > 1e9D THEN named_struct('code', 'invalid_value', 'reason', concat('ad_impression.revenue ', CAST(amount AS STRING), ' is above the limit of 1e+09 units of any currency'))
      WHEN payload = 'ad_impression' AND coalesce(e.ad_impression.currency, '') <> '' AND NOT regexp_like(e.ad_impression.currency, '^[A-Za-z]{3}$')
        THEN named_struct('code', 'invalid_value', 'reason', concat('ad_impression.currency "', left(e.ad_impression.currency, 16), '" is not an ISO 4217 code'))
      WHEN payload IN ('currency_earn', 'currency_spend') AND coalesce(e.currency_earn.currency, e.currency_spend.currency, '') = ''
        THEN named_struct('code', 'missing_field', 'reason', concat('missing required field: ', payload, '.currency'))
      WHEN payload IN ('currency_earn', 'currency_spend')
          AND coalesce(try_cast(coalesce(e.currency_earn.amount, e.currency_spend.amount) AS BIGINT), 0) <= 0
        THEN named_struct('code', 'invalid_value', 'reason', concat(payload, '.amount must be > 0'))
      WHEN payload = 'custom' AND coalesce(e.custom.name, '') = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: custom.name')
      WHEN payload = 'session_end' AND coalesce(try_cast(e.session_end.duration_ms AS BIGINT), 0) < 0
        THEN named_struct('code', 'invalid_value', 'reason', 'session_end.duration_ms must be >= 0')
      -- the processor's own checks (jobs.Validator.Check)
      WHEN game_id = '' THEN named_struct('code', 'missing_field', 'reason', 'missing required field: game_id (set by the gateway)')
      WHEN e.received_at IS NULL THEN named_struct('code', 'missing_field', 'reason', 'missing required field: received_at (set by the gateway)')
      WHEN received_ts IS NULL THEN named_struct('code', 'invalid_value', 'reason', 'received_at is not a valid timestamp')
      WHEN currency IS NOT NULL AND rate IS NULL THEN named_struct('code', 'unknown_currency',
        'reason', concat(event_type, '.currency "', left(coalesce(CASE event_type WHEN 'purchase' THEN e.purchase.currency
          WHEN 'refund' THEN e.refund.currency ELSE e.ad_impression.currency END, ''), 16), '" is not in the FX rate table'))
      WHEN currency IS NOT NULL AND abs(micros) > 9007199254740992D THEN named_struct('code', 'invalid_value',
        'reason', concat(event_type, ' amount converted to USD is out of range (more than 2^53 micro-USD)'))
      WHEN unix_millis(client_ts) * 1000 > unix_micros(received_ts) + ${max_future_us} THEN named_struct('code', 'clock_skew',
        'reason', format_string('client_time %s is more than %s after received_at %s',
          concat(date_format(timestamp_millis(unix_millis(client_ts)), "yyyy-MM-dd'T'HH:mm:ss"), regexp_replace(concat('.', lpad(CAST(pmod(unix_micros(timestamp_millis(unix_millis(client_ts))), 1000000) AS STRING), 6, '0')), r'\.?0+$', ''), 'Z'), ${max_future_text}, concat(date_format(received_ts, "yyyy-MM-dd'T'HH:mm:ss"), regexp_replace(concat('.', lpad(CAST(pmod(unix_micros(received_ts), 1000000) AS STRING), 6, '0')), r'\.?0+$', ''), 'Z')))
    END AS dead
  FROM priced p
)
SELECT
  key, value, topic, partition, offset, headers,
  dead.code AS code, dead.reason AS reason,
  e, event_id, event_type, game_id, player_id, session_id,
  -- the event time: client_time truncated to the millisecond
  timestamp_millis(unix_millis(client_ts)) AS t,
  coalesce(sign * CAST(micros AS BIGINT), 0) AS revenue_usd_micros,
  CASE WHEN event_type = 'purchase' THEN e.purchase.store_transaction_id END AS store_transaction_id
FROM checked
