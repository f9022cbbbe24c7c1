-- gamepulse_kpi_${window}: KPI rows (rule 6) per UTC ${window}, per (game,
-- platform, country) and per game (platform = country = '*'), as
-- internal/record's KPI JSON keyed by record.KPIKey. Append mode: one final
-- row per key (final true, version 1) once the watermark passes the
-- window's end. Active players and payers are approx_count_distinct
-- (HyperLogLog++ at the Go engine's precision, 2^14 registers).
-- new_players and the completeness counters (gaps, duplicates,
-- out_of_order) need per-player and per-session state Spark SQL cannot
-- keep: they are 0 (docs/engines.md).
WITH rows AS (
  SELECT
    window(t, ${window_size}) AS w, game_id, d.platform, d.country,
    approx_count_distinct(CASE WHEN event_type <> 'refund' THEN player_id END, ${hll_rsd}) AS active_players,
    count_if(event_type = 'session_start') AS sessions_started,
    count_if(event_type = 'purchase') AS purchases,
    approx_count_distinct(CASE WHEN event_type = 'purchase' THEN player_id END, ${hll_rsd}) AS payers,
    sum(revenue_usd_micros) AS revenue_usd_micros,
    sum(CASE WHEN event_type = 'purchase' THEN revenue_usd_micros ELSE 0 END) AS purchase_revenue_usd_micros,
    count_if(event_type = 'refund') AS refunds,
    -sum(CASE WHEN event_type = 'refund' THEN revenue_usd_micros ELSE 0 END) AS refund_usd_micros,
    count_if(event_type = 'ad_impression') AS ad_impressions,
    sum(CASE WHEN event_type = 'ad_impression' THEN revenue_usd_micros ELSE 0 END) AS ad_revenue_usd_micros,
    -- level events only; counted per level below
    collect_list(CASE WHEN event_type IN ('level_start', 'level_complete', 'level_fail')
      THEN named_struct('level', level, 'type', event_type) END) AS level_events
  FROM ${facts_view}
  -- every event counts in its detail row and in its game-level row
  LATERAL VIEW explode(array(named_struct('platform', platform, 'country', country),
    named_struct('platform', '*', 'country', '*'))) dims AS d
  GROUP BY window(t, ${window_size}), game_id, d.platform, d.country
),
shaped AS (
  SELECT *,
    date_format(w.start, "yyyy-MM-dd'T'HH:mm:ss'Z'") AS start_text,
    date_format(w.end, "yyyy-MM-dd'T'HH:mm:ss'Z'") AS end_text,
    transform(array_sort(array_distinct(transform(level_events, x -> x.level))), l -> named_struct(
      'level', l,
      'starts', size(filter(level_events, x -> x.level = l AND x.type = 'level_start')),
      'completions', size(filter(level_events, x -> x.level = l AND x.type = 'level_complete')),
      'fails', size(filter(level_events, x -> x.level = l AND x.type = 'level_fail')))) AS levels
  FROM rows
)
SELECT
  CAST(concat_ws('|', '${window}', start_text, game_id, platform, country) AS BINARY) AS key,
  CAST(to_json(named_struct(
    'key', concat_ws('|', '${window}', start_text, game_id, platform, country),
    'window', '${window}',
    'start', start_text,
    'end', end_text,
    'game', game_id,
    'platform', platform,
    'country', country,
    'active_players', active_players,
    'new_players', 0,
    'sessions_started', sessions_started,
    'purchases', purchases,
    'payers', payers,
    'revenue_usd_micros', revenue_usd_micros,
    'purchase_revenue_usd_micros', purchase_revenue_usd_micros,
    'refunds', refunds,
    'refund_usd_micros', refund_usd_micros,
    'ad_impressions', ad_impressions,
    'ad_revenue_usd_micros', ad_revenue_usd_micros,
    'levels', levels,
    'gaps', 0,
    'duplicates', 0,
    'out_of_order', 0,
    'final', true,
    'version', 1)) AS BINARY) AS value,
  ${kpi_topic} AS topic,
  -- a rewritten micro-batch (at-least-once sink) is loaded once
  array(${delivery_header}) AS headers
FROM shaped
