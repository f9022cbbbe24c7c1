package stream

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: from the clock)")

// stringCodec is a test codec: the bytes of the string. It encodes "" as nil,
// which the store must not mistake for a tombstone, and refuses to decode
// bytes starting with '!'.
type stringCodec struct{}

func (stringCodec) Encode(v string) []byte {
	if v == "" {
		return nil
	}
	return []byte(v)
}

func (stringCodec) Decode(b []byte) (string, error) {
	if len(b) > 0 && b[0] == '!' {
		return "", errors.New("bad value")
	}
	return string(b), nil
}

// fmtEntries prints changelog entries as "k=v" and "k=<tombstone>".
func fmtEntries(es []ChangelogEntry) string {
	var parts []string
	for _, e := range es {
		if e.Tombstone() {
			parts = append(parts, e.Key+"=<tombstone>")
		} else {
			parts = append(parts, e.Key+"="+string(e.Value))
		}
	}
	return strings.Join(parts, " ")
}

// contents returns the store's state as a map.
func contents[V any](s *Store[V]) map[string]V {
	m := map[string]V{}
	for k, v := range s.All() {
		m[k] = v
	}
	return m
}

func TestStoreDrain(t *testing.T) {
	tests := []struct {
		name  string
		ops   string // space-separated: k=v puts, -k deletes, | drains (checked against drains)
		drain []string
		state string // sorted k=v after the ops
	}{
		{"put", "a=1 b=2 |", []string{"a=1 b=2"}, "a=1 b=2"},
		{"last write wins within a drain", "a=1 a=2 a=3 |", []string{"a=3"}, "a=3"},
		{"order of first change", "b=1 a=1 b=2 |", []string{"b=2 a=1"}, "a=1 b=2"},
		{"delete present", "a=1 | -a |", []string{"a=1", "a=<tombstone>"}, ""},
		{"delete absent logs nothing", "-a |", []string{""}, ""},
		{"put then delete in one drain", "a=1 | a=2 -a |", []string{"a=1", "a=<tombstone>"}, ""},
		{"delete then put in one drain", "a=1 | -a a=3 |", []string{"a=1", "a=3"}, "a=3"},
		{"new key put and deleted before a drain", "a=1 -a |", []string{"a=<tombstone>"}, ""},
		{"empty value is not a tombstone", "a= |", []string{"a="}, "a="}, // stringCodec encodes "" as nil
		{"nothing changed", "a=1 | |", []string{"a=1", ""}, "a=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore[string]("test", stringCodec{})
			var drains []string
			var log []ChangelogEntry
			for _, op := range strings.Fields(tc.ops) {
				switch {
				case op == "|":
					es := s.Drain()
					drains = append(drains, fmtEntries(es))
					log = append(log, es...)
				case op[0] == '-':
					s.Delete(op[1:])
				default:
					k, v, _ := strings.Cut(op, "=")
					s.Put(k, v)
				}
			}
			if !slices.Equal(drains, tc.drain) {
				t.Errorf("drains %q, want %q", drains, tc.drain)
			}
			if got := fmtState(contents(s)); got != tc.state {
				t.Errorf("state %q, want %q", got, tc.state)
			}
			r := NewStore[string]("test", stringCodec{})
			if err := r.Restore(log); err != nil {
				t.Fatal(err)
			}
			if got := fmtState(contents(r)); got != tc.state {
				t.Errorf("restored state %q, want %q", got, tc.state)
			}
			if r.Len() != s.Len() || r.Bytes() != s.Bytes() {
				t.Errorf("restored Len %d Bytes %d, live %d %d", r.Len(), r.Bytes(), s.Len(), s.Bytes())
			}
		})
	}
}

func fmtState(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

func TestStoreAccessors(t *testing.T) {
	s := NewStore[string]("players", stringCodec{})
	if s.Name() != "players" || s.Len() != 0 || s.Bytes() != 0 || s.Pending() != 0 || s.Drain() != nil {
		t.Fatal("a new store is not empty")
	}
	s.Put("alice", "12345")
	s.Put("bob", "1")
	if v, ok := s.Get("alice"); !ok || v != "12345" {
		t.Errorf("Get(alice) = %q, %v", v, ok)
	}
	if s.Len() != 2 || s.Pending() != 2 {
		t.Errorf("Len %d Pending %d, want 2 2", s.Len(), s.Pending())
	}
	if s.Bytes() != 0 {
		t.Errorf("Bytes %d before the first Drain, want 0", s.Bytes())
	}
	s.Drain()
	if want := int64(len("alice12345bob1")); s.Bytes() != want {
		t.Errorf("Bytes %d, want %d", s.Bytes(), want)
	}
	if !s.Delete("bob") || s.Delete("bob") {
		t.Error("Delete: want true, then false")
	}
	if _, ok := s.Get("bob"); ok || s.Len() != 1 {
		t.Errorf("bob still there; Len %d", s.Len())
	}
	if want := int64(len("alice12345")); s.Bytes() != want {
		t.Errorf("Bytes %d after Delete, want %d", s.Bytes(), want)
	}
	// The loop body may delete.
	s.Put("carol", "x")
	for k := range s.All() {
		s.Delete(k)
	}
	if s.Len() != 0 || len(contents(s)) != 0 {
		t.Errorf("Len %d after deleting everything", s.Len())
	}
	// Breaking out of All stops it.
	s.Put("a", "1")
	s.Put("b", "2")
	n := 0
	for range s.All() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("loop ran %d times after break", n)
	}
}

func TestStoreDiscardAndRestore(t *testing.T) {
	s := NewStore[string]("test", stringCodec{})
	s.Put("a", "1")
	s.Put("b", "2")
	committed := s.Drain()

	// A transaction that aborts: its changes are discarded, then the state
	// is restored from what was committed.
	s.Put("a", "changed")
	s.Delete("b")
	s.Put("c", "new")
	s.Discard()
	if s.Pending() != 0 || s.Drain() != nil {
		t.Fatal("pending entries after Discard")
	}
	if err := s.Restore(committed); err != nil {
		t.Fatal(err)
	}
	if got := fmtState(contents(s)); got != "a=1 b=2" {
		t.Errorf("state after restore %q", got)
	}
	if s.Len() != 2 || s.Bytes() != 4 {
		t.Errorf("Len %d Bytes %d, want 2 4", s.Len(), s.Bytes())
	}
	// The next transaction logs from there.
	s.Put("a", "3")
	if got := fmtEntries(s.Drain()); got != "a=3" {
		t.Errorf("drain %q", got)
	}
}

func TestStoreReplayError(t *testing.T) {
	s := NewStore[string]("sessions", stringCodec{})
	err := s.Restore([]ChangelogEntry{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("!x")}})
	if err == nil || !strings.Contains(err.Error(), `"sessions"`) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("err = %v, want one naming the store and the key", err)
	}
}

// TestStoreReplayOverPending covers Replay over keys changed but not yet
// drained: the replayed value wins and the stale change is not logged.
func TestStoreReplayOverPending(t *testing.T) {
	s := NewStore[string]("test", stringCodec{})
	s.Put("a", "1")
	s.Put("b", "1")
	if err := s.Replay([]ChangelogEntry{{Key: "a", Value: []byte("9")}, {Key: "b"}}); err != nil {
		t.Fatal(err)
	}
	if got := fmtEntries(s.Drain()); got != "" {
		t.Errorf("drain %q, want nothing", got)
	}
	if got := fmtState(contents(s)); got != "a=9" || s.Len() != 1 {
		t.Errorf("state %q Len %d", got, s.Len())
	}
}

// TestStoreRandom is a randomized (metamorphic) test: a random sequence of
// puts, deletes, committed and aborted transactions is applied to a store and
// to a plain map; after each transaction the store must equal the map, and a
// store restored from the committed changelog — whole, in random chunks, or
// compacted as Kafka would — must equal it too.
func TestStoreRandom(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed)", seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	for round := range 20 {
		s := NewStore[int64]("random", Int64Codec{})
		committed := map[string]int64{} // the model: state as of the last commit
		var log []ChangelogEntry        // the changelog topic
		nkeys := 1 + rng.IntN(50)
		for txn := range 1 + rng.IntN(40) {
			model := maps.Clone(committed)
			for range rng.IntN(30) {
				k := fmt.Sprintf("k%d", rng.IntN(nkeys))
				if rng.IntN(3) == 0 {
					_, had := model[k]
					if s.Delete(k) != had {
						t.Fatalf("round %d txn %d: Delete(%s) disagrees with the model", round, txn, k)
					}
					delete(model, k)
				} else {
					v := rng.Int64N(1<<40) - 1<<39
					s.Put(k, v)
					model[k] = v
				}
			}
			if !maps.Equal(contents(s), model) || s.Len() != len(model) {
				t.Fatalf("round %d txn %d: live state differs from the model", round, txn)
			}
			if rng.IntN(4) == 0 { // abort: discard and restore
				s.Discard()
				if err := s.Restore(log); err != nil {
					t.Fatal(err)
				}
			} else {
				log = append(log, s.Drain()...)
				committed = model
			}
			if !maps.Equal(contents(s), committed) || s.Len() != len(committed) {
				t.Fatalf("round %d txn %d: state after commit/abort differs from the model", round, txn)
			}
			checkBytes(t, s)
		}

		// Restore from the whole log.
		r := NewStore[int64]("random", Int64Codec{})
		if err := r.Restore(log); err != nil {
			t.Fatal(err)
		}
		// Restore in chunks, as fetched.
		c := NewStore[int64]("random", Int64Codec{})
		c.Put("stale", 1) // Restore must reset it
		if err := c.Restore(nil); err != nil {
			t.Fatal(err)
		}
		for rest := log; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(10))
			if err := c.Replay(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		// Restore from the compacted log: the last entry per key, tombstones
		// gone, in any order.
		last := map[string]ChangelogEntry{}
		for _, e := range log {
			last[e.Key] = e
		}
		var compacted []ChangelogEntry
		for _, e := range last {
			if !e.Tombstone() {
				compacted = append(compacted, e)
			}
		}
		rng.Shuffle(len(compacted), func(i, j int) { compacted[i], compacted[j] = compacted[j], compacted[i] })
		k := NewStore[int64]("random", Int64Codec{})
		if err := k.Restore(compacted); err != nil {
			t.Fatal(err)
		}
		for name, x := range map[string]*Store[int64]{"whole": r, "chunked": c, "compacted": k} {
			if !maps.Equal(contents(x), committed) || x.Len() != s.Len() || x.Bytes() != s.Bytes() {
				t.Fatalf("round %d: %s restore differs from the live state", round, name)
			}
		}
	}
}

// checkBytes checks the size accounting of a store with nothing pending.
func checkBytes[V any](t *testing.T, s *Store[V]) {
	t.Helper()
	var want int64
	for k, v := range s.All() {
		want += int64(len(k) + len(s.codec.Encode(v)))
	}
	if s.Bytes() != want {
		t.Fatalf("Bytes %d, want %d", s.Bytes(), want)
	}
}

func TestInt64Codec(t *testing.T) {
	var c Int64Codec
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 40, -1 << 63, 1<<63 - 1} {
		got, err := c.Decode(c.Encode(v))
		if err != nil || got != v {
			t.Errorf("round trip of %d: %d, %v", v, got, err)
		}
	}
	for _, b := range [][]byte{
		nil,                                // empty
		{0x80},                             // truncated
		{0x02, 0x00},                       // trailing byte
		{0x80, 0x00},                       // overlong zero
		{0x81, 0x80, 0x00},                 // overlong -1
		bytesRepeat(0xff, 11),              // overflow
		append(bytesRepeat(0xff, 9), 0x02), // overflow in the 10th byte
	} {
		if v, err := c.Decode(b); err == nil {
			t.Errorf("Decode(% x) = %d, want an error", b, v)
		}
	}
}

func bytesRepeat(b byte, n int) []byte { return []byte(strings.Repeat(string([]byte{b}), n)) }
