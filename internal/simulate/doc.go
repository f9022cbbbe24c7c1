// Package simulate owns gamepulse's synthetic traffic: a deterministic model
// of a population of players (Generator), the faults a real client fleet
// adds (duplicates, late arrivals, malformed items), and the load generator
// that paces it into a Sink — an NDJSON file (FileSink), the gateway
// (HTTPSink) or the Kafka topic directly (KafkaSink). It sits upstream of
// everything: it imports only the event schema.
//
// # The model
//
// A catalog of games (DefaultGames: a casual puzzle game, a racing game and
// a strategy game) is played by a population of Config.Players players
// installed over the 180 days before Start, skewed recent, plus new installs
// that make Config.NewPlayers (5%) of session starts. A player is derived
// from its index by hashing (country, platform, device, app version, install
// date, payer or not, progress, balances), so a population of millions costs
// memory only for the players who actually play. Which returning player
// starts a session falls with the days since install (retention ~1/√(1+days))
// and follows the local time of day of their country (eleven countries in
// seven time zones, each with an evening-peaked activity curve). The result
// is a diurnal curve: at the peak about 1.5 times as many players are online
// and start sessions as in the trough, and the country mix follows the
// evening around the globe.
//
// A session lasts a lognormal time around the game's SessionMedian (σ 0.8,
// 20 s to 3 h). It opens with session_start (entry point icon, push,
// deeplink, ... or install), usually a login (method by platform), a daily
// bonus on a new day, a short tutorial for new players; then the player
// alternates menu actions (think time ~7 s) and level attempts (lognormal
// around LevelMedian). A level fails with a probability that grows with the
// level, saturates, spikes on every 10th (boss) level and scales with
// Difficulty; a win pays coins and advances the level, which the player
// keeps across sessions. Non-payers of games with ads see banners,
// interstitials after wins and rewarded ads after fails, with revenue from
// per-placement eCPMs scaled by the country. Payers (Game.PayerShare, 2.5–5%)
// buy gem packs at store price points (0.99 … 99.99 USD/EUR/GBP, local BRL
// and JPY tiers) in their storefront's currency with a store-shaped receipt
// id; Config.RefundShare (3%) of purchases are refunded minutes to hours
// later by a refund event without a session. Coins and gems balances never go
// negative. Every event of a session has the session's id and seq 1, 2, 3, …
// with no gap: gaps, repeats and disorder seen downstream are faults.
//
// # Time
//
// Each Next advances a virtual clock by 1/Config.Rate from Config.Start,
// and every normal event carries that clock as client_time (milliseconds).
// The event rate is thus fixed — this is a load generator — and the model
// decides how many sessions that rate supports: the next event is the
// earliest due event of the open sessions, and a new session starts
// whenever none is due yet. Thinking and playing time stretch with the
// diurnal level, which is how more players share the same rate at peak
// hours. A run starts cold: for the first minute or so of simulated time the
// population logs in, and session starts dominate. Paced by Run at
// RunOptions.Rate = Config.Rate with Start = now, client_time tracks the
// wall clock and passes the gateway's skew check.
//
// # Faults
//
// Config.Duplicates, Late and Malformed are shares of the items emitted. A
// duplicate is an exact copy (same event_id) re-emitted 0.2–30 s later, as
// a client retrying after a lost response does. A late event is a normal
// event held back for LateDelay/10 to LateDelay (1–10 min) and then emitted
// with its original client_time and seq: it arrives out of order. A
// malformed item is built from a made-up session and broken: invalid JSON
// (balanced, so a receiver can refuse it alone), not an object, a missing
// field, an unknown event_type, a bad price, currency or country, a payload
// that does not match its type. Item.Kind says which is which and
// Item.Code the rejection code a validating receiver answers, so a run
// counts its own ground truth (Stats).
//
// Same Config, Start included, same items: all randomness comes from two PCG
// streams seeded with Config.Seed (one for the model, one for faults), and
// the model never iterates a map. (Byte for byte within one build: protojson
// may vary its whitespace between builds, which shows in malformed items'
// Raw.)
package simulate
