package oracle

import (
	"math"
	"strings"
	"time"
)

// platforms maps a trimmed, lower-cased client platform to its normalized
// name. Anything not listed is "other".
var platforms = map[string]string{
	"ios": "ios", "iphone": "ios", "ipad": "ios", "ipados": "ios", "ipod": "ios",
	"android": "android",
	"web":     "web", "webgl": "web", "html5": "web", "browser": "web",
	"windows": "windows", "win": "windows", "pc": "windows", "win32": "windows", "win64": "windows",
	"macos": "macos", "mac": "macos", "osx": "macos", "macosx": "macos", "mac os": "macos", "mac os x": "macos",
	"linux":  "linux",
	"switch": "switch", "nintendo switch": "switch", "nintendo_switch": "switch", "nintendoswitch": "switch",
	"playstation": "playstation", "ps": "playstation", "ps4": "playstation", "ps5": "playstation",
	"xbox": "xbox", "xboxone": "xbox", "xbox one": "xbox", "xbox_one": "xbox",
	"xboxseries": "xbox", "xbox series": "xbox", "xbox_series": "xbox",
}

// NormalizePlatform is rule 4's platform: trimmed of spaces (space, tab,
// CR, LF), lower-cased (ASCII letters only), then mapped by the table in
// the package documentation; unknown or empty → "other".
func NormalizePlatform(p string) string {
	p = strings.Trim(p, " \t\r\n")
	lower := []byte(p)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + ('a' - 'A')
		}
	}
	if n, ok := platforms[string(lower)]; ok {
		return n
	}
	return "other"
}

// NormalizeCountry is rule 4's country: upper-cased (ASCII letters only),
// "ZZ" when empty.
func NormalizeCountry(c string) string {
	if c == "" {
		return "ZZ"
	}
	upper := []byte(c)
	for i, x := range upper {
		if 'a' <= x && x <= 'z' {
			upper[i] = x - ('a' - 'A')
		}
	}
	return string(upper)
}

// USDMicros converts amount units of currency to integer micro-USD,
// round(amount × rate × 1e6) evaluated left to right with halves away from
// zero. The currency is compared case-insensitively; "" means USD, whose
// rate is 1 whether rates lists it or not. known is false for a currency
// missing from rates; inRange is false when the result's magnitude exceeds
// 2^53 (or is not a number).
func USDMicros(amount float64, currency string, rates map[string]float64) (micros int64, known, inRange bool) {
	currency = strings.ToUpper(currency)
	if currency == "" {
		currency = "USD"
	}
	rate, ok := rates[currency]
	if !ok && currency == "USD" {
		rate, ok = 1, true
	}
	if !ok {
		return 0, false, false
	}
	v := math.Round(amount * rate * 1e6)
	if math.IsNaN(v) || math.Abs(v) > 1<<53 {
		return 0, true, false
	}
	return int64(v), true, true
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

const (
	minuteMs = int64(time.Minute / time.Millisecond)
	hourMs   = int64(time.Hour / time.Millisecond)
)

// floorTo is the start of the window of size ms that holds t (Unix ms).
func floorTo(t, size int64) int64 {
	q := t / size
	if t%size != 0 && t < 0 {
		q--
	}
	return q * size
}
