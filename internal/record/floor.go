package record

import "time"

// Window lengths in Unix milliseconds.
const (
	MinuteMs = int64(60_000)
	HourMs   = int64(3_600_000)
	DayMs    = int64(86_400_000)
)

// FloorDiv is ⌊a/b⌋ for b > 0 (Go's / truncates towards zero).
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// FloorMs returns the start of the size-aligned window holding t, both in
// Unix milliseconds (size > 0). Windows are aligned to the Unix epoch, which
// is aligned to whole minutes, hours and days in UTC.
func FloorMs(t, size int64) int64 { return FloorDiv(t, size) * size }

// Floor returns the start of the size-aligned window holding t, in UTC with
// no monotonic reading. size must divide an hour or be a whole number of
// hours (Truncate is relative to the zero time, which is aligned to whole
// hours and minutes, but not to days in every zone).
func Floor(t time.Time, size time.Duration) time.Time { return t.UTC().Truncate(size) }

// FloorMinute returns the start of the UTC minute holding t: the window of
// every per-minute record (KPI rows, completeness rows, alerts).
func FloorMinute(t time.Time) time.Time { return Floor(t, time.Minute) }
