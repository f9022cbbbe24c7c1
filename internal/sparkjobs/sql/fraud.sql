-- gamepulse_fraud: the per-player fraud rule (rule 8): more than
-- ${fraud_max} purchases by one player in one UTC minute raise one alert
-- (rule player_purchases_per_minute), as internal/record's Alert JSON keyed
-- "rule|subject". As in the Go engine, observed is the count that fired
-- the rule (the threshold + 1). Append mode: written when the watermark
-- passes the minute's end (the Go engine writes it at the purchase that
-- fires it).
SELECT
  CAST(concat('player_purchases_per_minute|', player_id) AS BINARY) AS key,
  CAST(to_json(named_struct(
    'rule', 'player_purchases_per_minute',
    'subject', player_id,
    'game_id', game_id,
    'window', concat(date_format(w.start, "yyyy-MM-dd'T'HH:mm:ss'Z'"), '/', date_format(w.end, "yyyy-MM-dd'T'HH:mm:ss'Z'")),
    'observed', CAST(${fraud_max} + 1 AS DOUBLE),
    'baseline', 0D,
    'threshold', CAST(${fraud_max} AS DOUBLE),
    'message', format_string('player %s of game %s made %d purchases in the minute from %s (more than %d)',
      player_id, game_id, ${fraud_max} + 1, date_format(w.start, "yyyy-MM-dd'T'HH:mm:ss'Z'"), ${fraud_max}))) AS BINARY) AS value,
  ${alerts_topic} AS topic,
  -- a rewritten micro-batch (at-least-once sink) is loaded once
  array(${delivery_header}) AS headers
FROM (
  SELECT window(t, '1 minute') AS w, game_id, player_id, count(*) AS purchases
  FROM ${facts_view}
  WHERE event_type = 'purchase'
  GROUP BY window(t, '1 minute'), game_id, player_id
)
WHERE purchases > ${fraud_max}
