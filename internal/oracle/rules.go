package oracle

import (
	"math"
	"strings"
	"time"
)

// platforms maps a lower-cased client platform to its normalized name.
// Anything not listed is "other".
var platforms = map[string]string{
	"ios": "ios", "iphone": "ios", "ipad": "ios", "ipados": "ios",
	"android":     "android",
	"web":         "web",
	"windows":     "windows",
	"macos":       "macos",
	"linux":       "linux",
	"switch":      "switch",
	"playstation": "playstation",
	"xbox":        "xbox",
}

// NormalizePlatform is rule 4's platform: lower-cased, then mapped by the
// table in the package documentation; unknown or empty → "other".
func NormalizePlatform(p string) string {
	if n, ok := platforms[strings.ToLower(p)]; ok {
		return n
	}
	return "other"
}

// NormalizeCountry is rule 4's country: upper-cased, "ZZ" when empty.
func NormalizeCountry(c string) string {
	if c == "" {
		return "ZZ"
	}
	return strings.ToUpper(c)
}

// USDMicros converts amount units of currency (upper-cased before the
// lookup; "" means USD) to integer micro-USD, round(amount × rate × 1e6)
// with halves away from zero. It reports false for a currency missing from
// rates or a result that does not fit in an int64.
func USDMicros(amount float64, currency string, rates map[string]float64) (int64, bool) {
	if currency == "" {
		currency = "USD"
	}
	rate, ok := rates[strings.ToUpper(currency)]
	if !ok {
		return 0, false
	}
	v := math.Round(amount * rate * 1e6)
	if math.IsNaN(v) || v >= 1<<63 || v < -(1<<63) {
		return 0, false
	}
	return int64(v), true
}

// murmur2 is Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils),
// which the Java client and franz-go's default partitioners apply to a
// record's key.
func murmur2(b []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	h := uint32(seed) ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// Partition returns the partition of n that a record keyed by key goes to:
// (murmur2(key) & 0x7fffffff) mod n, as Kafka's Java client and franz-go do.
func Partition(key string, n int) int {
	if n <= 1 {
		return 0
	}
	return int(murmur2([]byte(key))&0x7fffffff) % n
}

// minuteOf returns the start of the UTC minute holding t.
func minuteOf(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

// hourOf returns the start of the UTC hour holding t.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
