-- gamepulse_enrich: deduplicated events, enriched (rule 4), to the
-- enriched topic as internal/record's enriched record: the raw JSON
-- (event.AppendJSON's form) with one more member, "enrichment". Spark
-- computes platform_norm, country_norm and revenue_usd_micros exactly as
-- the Go engine; the members that need per-player lifetime state
-- (first_seen, days_since_install, lifetime_spend_usd_micros, payer,
-- session_count, new_player) are left out: they decode as zero values.
SELECT
  CAST(player_id AS BINARY) AS key,
  CAST(concat(
    left(rtrim(CAST(value AS STRING)), length(rtrim(CAST(value AS STRING))) - 1),
    ',"enrichment":',
    to_json(named_struct(
      'platform_norm', CASE
        WHEN octet_length(p) = 0 OR octet_length(p) > 24 THEN 'other'
        WHEN p IN ('ios', 'iphone', 'ipad', 'ipados', 'ipod') THEN 'ios'
        WHEN p IN ('android') THEN 'android'
        WHEN p IN ('web', 'webgl', 'html5', 'browser') THEN 'web'
        WHEN p IN ('windows', 'win', 'pc', 'win32', 'win64') THEN 'windows'
        WHEN p IN ('macos', 'mac', 'osx', 'macosx', 'mac os', 'mac os x') THEN 'macos'
        WHEN p IN ('linux') THEN 'linux'
        WHEN p IN ('switch', 'nintendo switch', 'nintendo_switch', 'nintendoswitch') THEN 'switch'
        WHEN p IN ('playstation', 'ps', 'ps4', 'ps5') THEN 'playstation'
        WHEN p IN ('xbox', 'xboxone', 'xbox one', 'xbox_one', 'xboxseries', 'xbox series', 'xbox_series') THEN 'xbox'
        ELSE 'other'
      END,
      'country_norm', coalesce(nullif(translate(coalesce(e.country, ''), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'ZZ'),
      'revenue_usd_micros', revenue_usd_micros)),
    '}') AS BINARY) AS value,
  ${enriched_topic} AS topic,
  -- a rewritten micro-batch (at-least-once sink) is loaded once
  array(${delivery_header}) AS headers
FROM (
  -- the platform trimmed of ASCII white space (space, tab, CR, LF) and lower-cased (ASCII letters)
  SELECT *, translate(regexp_replace(coalesce(e.platform, ''), r'^[ \t\n\r]+|[ \t\n\r]+$', ''),
    'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS p
  FROM ${deduplicated_view}
)
