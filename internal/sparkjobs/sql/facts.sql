-- gamepulse_facts_all: the enriched topic read back, parsed into what the
-- KPI, session and fraud jobs need, with the allowed lateness as the
-- watermark delay of the event time. The dedup step that follows
-- (gamepulse_facts) drops repeated event_ids within this watermark: Spark's
-- Kafka sink is at-least-once, and an enrich micro-batch rewritten after a
-- restart must not count twice.
SELECT event_id, event_type, game_id, player_id, session_id, t, platform, country, revenue_usd_micros, level
FROM (
  SELECT
    r.event_id, r.event_type, r.game_id, r.player_id,
    coalesce(r.session_id, '') AS session_id,
    -- the event time: client_time truncated to the millisecond
    timestamp_millis(unix_millis(try_cast(r.client_time AS TIMESTAMP))) AS t,
    r.enrichment.platform_norm AS platform,
    r.enrichment.country_norm AS country,
    coalesce(r.enrichment.revenue_usd_micros, 0) AS revenue_usd_micros,
    coalesce(r.level_start.level, r.level_complete.level, r.level_fail.level) AS level
  FROM (
    SELECT from_json(CAST(value AS STRING), ${enriched_schema}) AS r
    FROM ${enriched_in_view}
  )
  WHERE r.event_id IS NOT NULL
) WATERMARK t DELAY OF ${lateness}
