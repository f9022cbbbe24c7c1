-- gamepulse_deadletter: the records that failed validation (rule 1), to the
-- dead-letter topic as internal/record's DeadLetter: the raw record's key
-- and value unchanged, and the headers code, reason, source_topic,
-- source_partition, source_offset, then the raw record's content-type
-- header when it had one (how to read the value), and the delivery
-- header (Spark's Kafka sink is at-least-once). Stateless.
SELECT
  key,
  value,
  ${deadletter_topic} AS topic,
  concat(array(
    named_struct('key', 'code', 'value', CAST(code AS BINARY)),
    named_struct('key', 'reason', 'value', CAST(reason AS BINARY)),
    named_struct('key', 'source_topic', 'value', CAST(topic AS BINARY)),
    named_struct('key', 'source_partition', 'value', CAST(CAST(partition AS STRING) AS BINARY)),
    named_struct('key', 'source_offset', 'value', CAST(CAST(offset AS STRING) AS BINARY)),
    ${delivery_header}
  ), filter(headers, h -> h.key = 'content-type')) AS headers
FROM ${checked_view}
WHERE code IS NOT NULL
