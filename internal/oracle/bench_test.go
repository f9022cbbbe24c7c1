package oracle

import (
	"bytes"
	"testing"
)

// BenchmarkOracle is the cost per simulated record (decoded), over 100k
// records on 12 partitions.
func BenchmarkOracle(b *testing.B) {
	recs := generate(b, 100_000, 3)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(recs, Params{Rates: simRates, Partitions: 12}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// BenchmarkRunNDJSON includes decoding the NDJSON, as a run over a
// simulator file does.
func BenchmarkRunNDJSON(b *testing.B) {
	data := simNDJSON(b, 100_000, 3)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := RunNDJSON(bytes.NewReader(data), received, Params{Rates: simRates, Partitions: 12}); err != nil {
			b.Fatal(err)
		}
	}
}
