package kafka

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// lines is a slog handler that keeps every record it is given.
type lines struct {
	mu   sync.Mutex
	recs []string
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }
func (l *lines) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	l.recs = append(l.recs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *lines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lines) WithGroup(string) slog.Handler      { return l }

func (l *lines) atLeast(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		if !strings.HasPrefix(r, "DEBUG") && !(level > slog.LevelInfo && strings.HasPrefix(r, "INFO")) {
			out = append(out, r)
		}
	}
	return out
}

// TestOutageIsLoggedOncePerStateChange: a client producing through the
// embedded broker's outage logs that the broker is unreachable once, and
// that it is back once, at warn/info level; never a TLS hint, never a
// line per retry.
func TestOutageIsLoggedOncePerStateChange(t *testing.T) {
	b, err := StartBroker(BrokerConfig{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	h := &lines{}
	opts, err := Config{Brokers: b.Addrs(), ClientID: "t"}.Opts(slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("t"), kgo.RecordDeliveryTimeout(time.Second))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := t.Context()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	b.Outage(3 * time.Second)
	end := time.Now().Add(3 * time.Second)
	for time.Now().Before(end) { // a producer retrying through the outage, as the gateway's clients do
		cl.ProduceSync(ctx, &kgo.Record{Value: []byte("during")})
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for cl.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr() != nil {
		if time.Now().After(deadline) {
			t.Fatal("no produce after the outage")
		}
	}
	got := h.atLeast(slog.LevelInfo)
	t.Logf("%d lines at info or above:\n%s", len(got), strings.Join(got, "\n"))
	var down, up int
	for _, l := range got {
		if strings.Contains(l, "TLS") {
			t.Errorf("misleading TLS hint: %s", l)
		}
		if strings.Contains(l, "unreachable") {
			down++
		}
		if strings.Contains(l, "reachable again") {
			up++
		}
	}
	if down != 1 || up != 1 || len(got) > 4 {
		t.Errorf("%d lines, %d saying unreachable and %d saying reachable again; want one of each and no line per retry", len(got), down, up)
	}
}
