package jobs

import (
	"encoding/binary"
	"math"
)

// idTable maps idHash → int64 for the dedup ids: a flat open-addressing
// table with linear probing (load ≤ 1/2) and backward-shift deletion (no
// tombstones). Keys are already uniform hashes, so their first eight bytes
// are the slot index. With millions of entries a lookup costs one cache miss
// where a Go map costs several dependent ones, and the slots hold no
// pointers for the garbage collector to mark. Growth doubles and rehashes
// (amortized O(1); a pause proportional to the table at each doubling).
type idTable struct {
	slots []idSlot // len is a power of two
	mask  uint64
	n     int
}

type idSlot struct {
	k idHash
	t int64 // emptySlot when free
}

// emptySlot marks a free slot: no event time is this small (client_time is
// at least year 1).
const emptySlot = math.MinInt64

func newIDTable(size int) idTable {
	n := 1024
	for n < 2*size {
		n *= 2
	}
	t := idTable{slots: make([]idSlot, n), mask: uint64(n - 1)}
	for i := range t.slots {
		t.slots[i].t = emptySlot
	}
	return t
}

func (m *idTable) home(k *idHash) uint64 { return binary.LittleEndian.Uint64(k[:8]) & m.mask }

// find returns the slot of k, or the free slot where it would go.
func (m *idTable) find(k *idHash) (uint64, bool) {
	i := m.home(k)
	for {
		s := &m.slots[i]
		if s.t == emptySlot {
			return i, false
		}
		if s.k == *k {
			return i, true
		}
		i = (i + 1) & m.mask
	}
}

func (m *idTable) get(k idHash) (int64, bool) {
	i, ok := m.find(&k)
	return m.slots[i].t, ok
}

func (m *idTable) put(k idHash, t int64) {
	i, ok := m.find(&k)
	if !ok {
		if 2*(m.n+1) > len(m.slots) {
			m.grow()
			i, _ = m.find(&k)
		}
		m.slots[i].k = k
		m.n++
	}
	m.slots[i].t = t
}

func (m *idTable) delete(k idHash) {
	i, ok := m.find(&k)
	if !ok {
		return
	}
	// Backward shift: move later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, their slot].
	j := i
	for {
		j = (j + 1) & m.mask
		s := &m.slots[j]
		if s.t == emptySlot {
			break
		}
		h := m.home(&s.k)
		if (i < j && i < h && h <= j) || (i > j && (i < h || h <= j)) {
			continue
		}
		m.slots[i] = *s
		i = j
	}
	m.slots[i] = idSlot{t: emptySlot}
	m.n--
}

func (m *idTable) len() int { return m.n }

func (m *idTable) grow() {
	old := m.slots
	*m = newIDTable(len(old))
	for i := range old {
		if old[i].t != emptySlot {
			j, _ := m.find(&old[i].k)
			m.slots[j] = old[i]
			m.n++
		}
	}
}
