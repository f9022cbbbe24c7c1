-- gamepulse_sessions: sessions (rule 5) per (game, player, session_id),
-- split by an inactivity gap of ${session_gap} (session_window), as
-- internal/record's Session JSON keyed by session_id. Append mode: a
-- session is written once the watermark passes its last event + the gap.
-- closed_by is session_end when the session has a session_end event,
-- else watermark. Events without session_id are in no session.
SELECT
  CAST(session_id AS BINARY) AS key,
  CAST(to_json(named_struct(
    'session_id', session_id,
    'player_id', player_id,
    'game_id', game_id,
    'platform', platform,
    'country', country,
    'start', date_format(start_t, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
    'end', date_format(end_t, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
    'duration_ms', unix_millis(end_t) - unix_millis(start_t),
    'events', events,
    'revenue_usd_micros', revenue_usd_micros,
    'levels_played', levels_played,
    'closed_by', CASE WHEN has_end THEN 'session_end' ELSE 'watermark' END)) AS BINARY) AS value,
  ${sessions_topic} AS topic,
  -- a rewritten micro-batch (at-least-once sink) is loaded once
  array(${delivery_header}) AS headers
FROM (
  SELECT
    game_id, player_id, session_id,
    -- platform and country of the event that opened it: its earliest
    min_by(platform, t) AS platform,
    min_by(country, t) AS country,
    min(t) AS start_t,
    max(t) AS end_t,
    count(*) AS events,
    sum(revenue_usd_micros) AS revenue_usd_micros,
    size(collect_set(CASE WHEN event_type = 'level_start' THEN level END)) AS levels_played,
    max(event_type = 'session_end') AS has_end
  FROM ${facts_view}
  WHERE session_id <> ''
  GROUP BY game_id, player_id, session_id, session_window(t, ${session_gap})
)
