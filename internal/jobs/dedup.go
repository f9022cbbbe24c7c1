package jobs

// dedupKey is hash1('e', event_id) or hash1('t', store_transaction_id).
type dedupKey = idHash

// dedupTable holds the ids of rule 2: every event of the horizon, the
// largest table, in a flat idTable (no pointers, one cache miss a lookup).
// A value is t<<1 | dirty: the event time (unix ms) and whether the entry
// changed since the last Changes.
type dedupTable struct {
	m     idTable
	exp   buckets[dedupKey]
	dirty []dedupKey
}

// seen reports whether k is remembered with an event time ≥ cutoff.
func (d *dedupTable) seen(k dedupKey, cutoff int64) bool {
	v, ok := d.m.get(k)
	return ok && v>>1 >= cutoff
}

func (d *dedupTable) put(k dedupKey, t int64) {
	if v, ok := d.m.get(k); !ok || v&1 == 0 {
		d.dirty = append(d.dirty, k)
	}
	d.m.put(k, t<<1|1)
	d.exp.add(t, k)
}

func (d *dedupTable) expire(cutoff int64) {
	d.exp.expire(cutoff, func(k dedupKey) {
		if v, ok := d.m.get(k); ok && v>>1 < cutoff {
			d.m.delete(k)
			if v&1 == 0 {
				d.dirty = append(d.dirty, k)
			}
		}
	})
}
