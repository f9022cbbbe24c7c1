package jobs

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Rates is an FX rate table: USD per one unit of each currency (rule 4).
// USD is always in the table with rate 1. A Rates is immutable once built
// and safe for concurrent use.
type Rates struct {
	m map[[3]byte]float64 // key: upper-case ISO 4217 code
}

// defaultRates are the built-in rates, USD per unit (mid-market, late 2026
// magnitudes; a deployment that reports money loads its own table with
// --fx-rates).
var defaultRates = map[string]float64{
	"USD": 1,
	"EUR": 1.08,
	"GBP": 1.27,
	"BRL": 0.19,
	"JPY": 0.0067,
	"CAD": 0.72,
	"AUD": 0.66,
	"MXN": 0.055,
	"INR": 0.012,
	"KRW": 0.00072,
	"CHF": 1.13,
	"CNY": 0.14,
	"HKD": 0.128,
	"SGD": 0.76,
	"NZD": 0.59,
	"SEK": 0.095,
	"NOK": 0.092,
	"DKK": 0.145,
	"PLN": 0.25,
	"TRY": 0.029,
	"ZAR": 0.055,
	"IDR": 0.000063,
}

// DefaultRates returns the built-in table.
func DefaultRates() *Rates {
	r, err := NewRates(defaultRates)
	if err != nil {
		panic(err) // the built-in table is valid; a test checks it
	}
	return r
}

// NewRates builds a table from code → USD per unit. Codes are three ASCII
// letters in either case; rates are finite and > 0. USD is added with rate 1
// when missing and must be 1 when present.
func NewRates(m map[string]float64) (*Rates, error) {
	r := &Rates{m: make(map[[3]byte]float64, len(m)+1)}
	for code, rate := range m {
		k, ok := currencyKey(code)
		if !ok {
			return nil, fmt.Errorf("fx rates: %q is not a three-letter currency code", code)
		}
		if !(rate > 0) || math.IsInf(rate, 0) {
			return nil, fmt.Errorf("fx rates: %s: rate %v must be a finite number > 0", code, rate)
		}
		if _, dup := r.m[k]; dup {
			return nil, fmt.Errorf("fx rates: %s is listed twice", code)
		}
		r.m[k] = rate
	}
	usd := [3]byte{'U', 'S', 'D'}
	if rate, ok := r.m[usd]; ok && rate != 1 {
		return nil, fmt.Errorf("fx rates: USD must have rate 1, not %v", rate)
	}
	r.m[usd] = 1
	return r, nil
}

// ParseRates reads a table in the file format of --fx-rates: one `CUR=rate`
// per line (e.g. `EUR=1.08`, USD per one unit of CUR); spaces around either
// side are ignored, and so are blank lines and lines starting with '#'. The
// file replaces the built-in table: a currency it does not list is unknown.
func ParseRates(rd io.Reader) (*Rates, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(rd)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		code, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("fx rates: line %d: expected CUR=rate, got %q", n, line)
		}
		code = strings.ToUpper(strings.TrimSpace(code))
		rate, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("fx rates: line %d: %s: %q is not a number", n, code, strings.TrimSpace(val))
		}
		if _, dup := m[code]; dup {
			return nil, fmt.Errorf("fx rates: line %d: %s is listed twice", n, code)
		}
		m[code] = rate
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("fx rates: %w", err)
	}
	return NewRates(m)
}

// LoadRates reads a rates file (see ParseRates).
func LoadRates(path string) (*Rates, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fx rates: %w", err)
	}
	defer f.Close()
	r, err := ParseRates(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Rate returns USD per one unit of currency (three letters, either case).
// The empty currency is USD.
func (r *Rates) Rate(currency string) (float64, bool) {
	if currency == "" {
		return 1, true
	}
	k, ok := currencyKey(currency)
	if !ok {
		return 0, false
	}
	rate, ok := r.m[k]
	return rate, ok
}

// Currencies returns the table's codes, sorted.
func (r *Rates) Currencies() []string {
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, string(k[:]))
	}
	sort.Strings(out)
	return out
}

// maxMicros bounds |revenue_usd_micros| of one event: 2^53, so that every
// amount and sum of a few is exact in a JSON number (about 9 billion USD).
const maxMicros = 1 << 53

// usdMicros converts amount of currency to integer micro-USD:
// round(amount × rate × 1e6), evaluated left to right in float64 and
// rounded half away from zero (math.Round). ok is false for an unknown
// currency; inRange is false when the result's magnitude exceeds 2^53.
func (r *Rates) usdMicros(amount float64, currency string) (micros int64, ok, inRange bool) {
	rate, ok := r.Rate(currency)
	if !ok {
		return 0, false, false
	}
	v := math.Round(amount * rate * 1e6)
	if !(math.Abs(v) <= maxMicros) { // also false for NaN
		return 0, true, false
	}
	return int64(v), true, true
}

func currencyKey(s string) ([3]byte, bool) {
	var k [3]byte
	if len(s) != 3 {
		return k, false
	}
	for i := 0; i < 3; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			return k, false
		}
		k[i] = c
	}
	return k, true
}
