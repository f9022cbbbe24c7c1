package jobs

import (
	"math/rand/v2"
	"testing"
)

// TestIDTable checks the table against a Go map under random puts,
// overwrites and deletes, with keys crowded into few home slots so that
// probe runs wrap around and backward shifts happen.
func TestIDTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, crowd := range []bool{false, true} {
		m := newIDTable(0)
		ref := map[idHash]int64{}
		var keys []idHash
		key := func() idHash {
			var k idHash
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			if crowd { // homes in the last 8 slots of a 1024-slot table, or the first
				k[0] = byte(1016 + rng.IntN(16))
				k[1] = 3
				for i := 2; i < 8; i++ {
					k[i] = 0
				}
			}
			return k
		}
		for step := 0; step < 100000; step++ {
			switch r := rng.IntN(10); {
			case r < 5 || len(keys) == 0:
				k := key()
				v := rng.Int64N(1 << 40)
				m.put(k, v)
				if _, ok := ref[k]; !ok {
					keys = append(keys, k)
				}
				ref[k] = v
			case r < 7:
				k := keys[rng.IntN(len(keys))]
				v := rng.Int64N(1 << 40)
				m.put(k, v)
				ref[k] = v
			default:
				i := rng.IntN(len(keys))
				k := keys[i]
				m.delete(k)
				delete(ref, k)
				keys[i] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
				m.delete(k) // absent: no-op
			}
			if crowd && len(keys) > 300 { // keep the crowded table small
				k := keys[0]
				m.delete(k)
				delete(ref, k)
				keys = keys[1:]
			}
			if step%25000 == 0 || step == 99999 {
				if m.len() != len(ref) {
					t.Fatalf("len %d, want %d", m.len(), len(ref))
				}
				for k, v := range ref {
					if got, ok := m.get(k); !ok || got != v {
						t.Fatalf("get(%x) = %d %v, want %d", k, got, ok, v)
					}
				}
				if _, ok := m.get(key()); ok && !crowd {
					t.Fatal("found a key never put")
				}
			}
		}
	}
}
