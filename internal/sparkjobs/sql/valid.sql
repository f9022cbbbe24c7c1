-- gamepulse_valid: the valid events, with the dedup horizon as the
-- watermark delay of their event time. The dedup steps that follow
-- (dropDuplicatesWithinWatermark by event_id, then by store transaction id
-- for purchases) keep an id while the watermark (max event time − horizon)
-- has not passed its event time + horizon; an event older than the
-- watermark is dropped by Spark (numRowsDroppedByWatermark), where the Go
-- engine lets it pass undeduplicated.
SELECT
  key, value, topic, partition, offset,
  e, event_id, event_type, game_id, player_id, session_id, t, revenue_usd_micros,
  -- the second dedup key: a purchase's store transaction id; any other
  -- event's own (already unique) event_id, so that it always passes
  CASE WHEN event_type = 'purchase' THEN concat('stx|', store_transaction_id) ELSE concat('id|', event_id) END AS dedup_key
FROM ${checked_view} WATERMARK t DELAY OF ${dedup_horizon}
WHERE code IS NULL
