package warehouse

import "time"

// FirstByKey returns k with only the first row of each natural key (see
// KeyedRows), in order: the copies inside one batch. A backend calls it
// before its existence checks, which then only need to look at stored rows
// (and at rows its earlier statements of the same batch wrote). A slice in
// which no key repeats is returned as it is, without copying.
func (k *KeyedRows) FirstByKey() KeyedRows {
	type sessionKey struct {
		id    string
		start int64
	}
	type alertKey struct {
		rule, subject string
		start         int64
	}
	type sourceKey struct {
		topic     string
		partition int32
		offset    int64
	}
	return KeyedRows{
		Events: firstByKey(k.Events, func(r *EventRow) (string, bool) { return r.EventID, true }),
		Sessions: firstByKey(k.Sessions, func(r *SessionRow) (sessionKey, bool) {
			return sessionKey{r.SessionID, r.Start.UnixNano()}, true
		}),
		Alerts: firstByKey(k.Alerts, func(r *AlertRow) (alertKey, bool) {
			return alertKey{r.Rule, r.Subject, r.WindowStart.UnixNano()}, true
		}),
		DeadLetters: firstByKey(k.DeadLetters, func(r *DeadLetterRow) (sourceKey, bool) {
			return sourceKey{r.SourceTopic, r.SourcePartition, r.SourceOffset}, r.SourceKnown()
		}),
	}
}

// SourceKnown reports whether r names where its original was read, its
// key among KeyedRows' dead letters: a dead letter with an unknown source
// (no headers, -1) cannot be told from another and is always appended.
func (r *DeadLetterRow) SourceKnown() bool {
	return r.SourceTopic != "" && r.SourcePartition >= 0 && r.SourceOffset >= 0
}

// firstByKey returns the rows of s whose key (ok) appeared in no earlier
// row; rows without a key (!ok) are all kept. It returns s itself when no
// key repeats.
func firstByKey[T any, K comparable](s []T, key func(*T) (K, bool)) []T {
	if len(s) < 2 {
		return s
	}
	seen := make(map[K]struct{}, len(s))
	first := func(r *T) bool {
		k, ok := key(r)
		if !ok {
			return true
		}
		if _, dup := seen[k]; dup {
			return false
		}
		seen[k] = struct{}{}
		return true
	}
	return filter(s, first)
}

// Span returns the earliest and the latest of at over rows (zero times when
// rows is empty): the range of times a backend restricts an existence check
// to, as constants its storage can prune by (DuckDB's zone maps,
// Snowflake's micro-partition pruning), since a copy has its original's
// time.
func Span[T any](rows []T, at func(*T) time.Time) (lo, hi time.Time) {
	for i := range rows {
		t := at(&rows[i])
		if i == 0 || t.Before(lo) {
			lo = t
		}
		if i == 0 || t.After(hi) {
			hi = t
		}
	}
	return lo, hi
}
