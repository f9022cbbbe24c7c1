package jobs

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultRates(t *testing.T) {
	r := DefaultRates()
	for _, c := range []string{"USD", "EUR", "GBP", "BRL", "JPY", "CAD", "AUD", "MXN", "INR", "KRW"} {
		rate, ok := r.Rate(c)
		if !ok || !(rate > 0) {
			t.Errorf("%s: rate %v, %v", c, rate, ok)
		}
	}
	if rate, ok := r.Rate(""); !ok || rate != 1 {
		t.Errorf("empty currency: %v %v, want USD", rate, ok)
	}
	if rate, ok := r.Rate("eur"); !ok || rate != 1.08 {
		t.Errorf("eur: %v %v", rate, ok)
	}
	for _, c := range []string{"XYZ", "EU", "EURO", "E1R"} {
		if _, ok := r.Rate(c); ok {
			t.Errorf("%s is known", c)
		}
	}
}

func TestParseRates(t *testing.T) {
	r, err := ParseRates(strings.NewReader("# rates\n\nEUR=1.1\n gbp = 1.25 \nJPY=0.007\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(r.Currencies(), ","), "EUR,GBP,JPY,USD"; got != want {
		t.Errorf("currencies %s, want %s (the file replaces the built-in table; USD is implied)", got, want)
	}
	if rate, _ := r.Rate("GBP"); rate != 1.25 {
		t.Errorf("GBP %v", rate)
	}
	for _, bad := range []string{
		"EUR", "EUR=x", "EUR=0", "EUR=-1", "EUR=NaN", "EUR=+Inf", "EURO=1", "E1R=1", "EUR=1\neur=2", "USD=2",
	} {
		if _, err := ParseRates(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ParseRates(strings.NewReader("USD=1")); err != nil {
		t.Errorf("USD=1: %v", err)
	}
}

func TestLoadRates(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fx.txt")
	if err := os.WriteFile(p, []byte("EUR=1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRates(p)
	if err != nil {
		t.Fatal(err)
	}
	if rate, _ := r.Rate("EUR"); rate != 1.5 {
		t.Errorf("EUR %v", rate)
	}
	if _, err := LoadRates(p + ".missing"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestUSDMicros(t *testing.T) {
	r := DefaultRates()
	for _, tc := range []struct {
		amount   float64
		currency string
		want     int64
	}{
		{1.99, "USD", 1_990_000},
		{0.99, "", 990_000},
		{4.99, "EUR", 5_389_200},
		{160, "JPY", 1_072_000},
		{0.0000004, "USD", 0},
		{0.0000006, "USD", 1},
		{0, "USD", 0},
	} {
		got, ok, in := r.usdMicros(tc.amount, tc.currency)
		if !ok || !in || got != tc.want {
			t.Errorf("usdMicros(%v, %q) = %d %v %v, want %d", tc.amount, tc.currency, got, ok, in, tc.want)
		}
	}
	if _, ok, _ := r.usdMicros(1, "XYZ"); ok {
		t.Error("XYZ known")
	}
	if _, ok, in := r.usdMicros(1e10, "USD"); !ok || in {
		t.Error("1e10 USD in range")
	}
	if _, _, in := r.usdMicros(math.NaN(), "USD"); in {
		t.Error("NaN in range")
	}
}
