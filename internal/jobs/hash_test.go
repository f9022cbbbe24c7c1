package jobs

import (
	"encoding/binary"
	"strconv"
	"testing"
)

// TestMurmur3Verification is SMHasher's check of MurmurHash3_x64_128: hash
// keys {0}, {0,1}, ... {0..254} with seeds 256−len, hash the concatenated
// results with seed 0; the first four bytes are 0x6384BA69.
func TestMurmur3Verification(t *testing.T) {
	key := make([]byte, 256)
	hashes := make([]byte, 0, 256*16)
	for i := 0; i < 256; i++ {
		key[i] = byte(i)
		h := murmur3(key[:i], uint32(256-i))
		hashes = append(hashes, h[:]...)
	}
	final := murmur3(hashes, 0)
	if got := binary.LittleEndian.Uint32(final[:4]); got != 0x6384BA69 {
		t.Errorf("verification value %#x, want 0x6384ba69", got)
	}
}

func TestHashParts(t *testing.T) {
	if hash2('p', "ab", "c") == hash2('p', "a", "bc") {
		t.Error("parts are not delimited")
	}
	if hash1('e', "x") == hash1('t', "x") {
		t.Error("tags do not separate key spaces")
	}
	if hash1('e', "x") != murmur3([]byte("x"), 'e') || hash2('p', "a", "bc") != murmur3([]byte("p\x01a\x02bc"), 0) {
		t.Error("hash1/hash2 differ from their definitions")
	}
	long := string(make([]byte, 1000)) // over the stack buffer
	if hash2('p', long, "b") != murmur3(append(append([]byte("p\xe8\x07"), long...), "\x01b"...), 0) {
		t.Error("long input")
	}
	seen := map[idHash]bool{}
	for i := 0; i < 200000; i++ {
		h := hash1('e', "e-"+strconv.Itoa(i))
		if seen[h] {
			t.Fatalf("collision at %d", i)
		}
		seen[h] = true
	}
}

func BenchmarkHash(b *testing.B) {
	b.Run("hash1", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			hash1('e', "8f14e45f-ceea-467a-9a57-1f0e7d2c1b11")
		}
	})
	b.Run("hash2", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			hash2('p', "g1", "player-8f14e45f-ceea")
		}
	})
}
