package jobs

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// idHash is a 128-bit hash standing in for an id in the large tables
// (dedup ids, players, ledger sessions): fixed-size keys without pointers keep those maps out of
// the garbage collector's marking, which otherwise dominates the cost of a
// 24-hour table of millions of ids. Two different ids share a hash with
// probability ~n²/2^129 (1e-20 for a billion ids).
type idHash [16]byte

// hash1 hashes one id in place: MurmurHash3 x64-128 of s with the tag as
// the seed (different tags: independent hash functions).
func hash1(tag byte, s string) idHash {
	return murmur3(unsafe.Slice(unsafe.StringData(s), len(s)), uint32(tag))
}

// hash2 hashes two parts: MurmurHash3 x64-128, seed 0, over
// tag | uvarint(len(a)) a | uvarint(len(b)) b.
func hash2(tag byte, a, b string) idHash {
	var stack [128]byte
	x := append(stack[:0], tag)
	x = binary.AppendUvarint(x, uint64(len(a)))
	x = append(x, a...)
	x = binary.AppendUvarint(x, uint64(len(b)))
	x = append(x, b...)
	return murmur3(x, 0)
}

// murmur3 is MurmurHash3_x64_128 (Austin Appleby, public domain); the
// result is h1 then h2, little-endian, as the reference writes them.
func murmur3(data []byte, seed uint32) idHash {
	const (
		c1 = 0x87c37b91114253d5
		c2 = 0x4cf5ad432745937f
	)
	h1, h2 := uint64(seed), uint64(seed)
	n := len(data)
	for len(data) >= 16 {
		k1 := binary.LittleEndian.Uint64(data)
		k2 := binary.LittleEndian.Uint64(data[8:])
		data = data[16:]
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
		h1 = bits.RotateLeft64(h1, 27)
		h1 += h2
		h1 = h1*5 + 0x52dce729
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		h2 = bits.RotateLeft64(h2, 31)
		h2 += h1
		h2 = h2*5 + 0x38495ab5
	}
	var k1, k2 uint64
	for i := len(data) - 1; i >= 8; i-- {
		k2 = k2<<8 | uint64(data[i])
	}
	if len(data) > 8 {
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
	}
	for i := min(len(data), 8) - 1; i >= 0; i-- {
		k1 = k1<<8 | uint64(data[i])
	}
	if len(data) > 0 {
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
	}
	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	h2 += h1
	var out idHash
	binary.LittleEndian.PutUint64(out[:], h1)
	binary.LittleEndian.PutUint64(out[8:], h2)
	return out
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
