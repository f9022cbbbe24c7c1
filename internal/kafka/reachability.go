package kafka

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// reachability logs, per broker address, when a client loses and regains
// it: one warn line when a connection or a request fails while the broker
// was reachable, one info line when a request succeeds again. franz-go's
// own lines about each failed dial and each killed connection, one per
// retry and often with a guess about TLS or SASL that is wrong for a
// broker that is simply down, are lowered to debug (see quieter).
type reachability struct {
	log *slog.Logger

	mu   sync.Mutex
	down map[string]time.Time // address → since when it is unreachable
}

var (
	_ kgo.HookBrokerConnect = (*reachability)(nil)
	_ kgo.HookBrokerE2E     = (*reachability)(nil)
)

func newReachability(log *slog.Logger) *reachability {
	return &reachability{log: log, down: map[string]time.Time{}}
}

func (r *reachability) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		r.failed(meta, err)
	}
}

func (r *reachability) OnBrokerE2E(meta kgo.BrokerMetadata, _ int16, e2e kgo.BrokerE2E) {
	if err := e2e.Err(); err != nil {
		r.failed(meta, err)
		return
	}
	addr := net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))
	r.mu.Lock()
	since, wasDown := r.down[addr]
	delete(r.down, addr)
	r.mu.Unlock()
	if wasDown {
		r.log.Info("kafka broker reachable again", "addr", addr, "after", time.Since(since).Round(time.Millisecond))
	}
}

func (r *reachability) failed(meta kgo.BrokerMetadata, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return // our own shutdown, not the broker's state
	}
	addr := net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))
	r.mu.Lock()
	_, wasDown := r.down[addr]
	if !wasDown {
		r.down[addr] = time.Now()
	}
	r.mu.Unlock()
	if !wasDown {
		r.log.Warn("kafka broker unreachable; retrying, and logging again once it answers", "addr", addr, "err", connErrText(err))
	}
}

// connErrText is err's text without franz-go's guesses about TLS, which
// mislead when a broker is down or drops connections.
func connErrText(err error) string {
	s := err.Error()
	if strings.Contains(s, "TLS") && strings.Contains(s, "closed the connection immediately") {
		return "the broker closed the connection at once (down, restarting, or a TLS/SASL mismatch)"
	}
	return s
}

// retryNoise are franz-go's messages about one failed dial, request or
// connection: logged per retry, so lowered to debug; reachability logs the
// state changes instead.
var retryNoise = []string{
	"unable to open connection to broker",
	"read from broker received EOF",
	"read from broker errored",
	"unable to request api versions",
	"random error while producing",
	"unable to update metadata",
	"metadata update triggered",
	"produce partition load error",
	"group manage loop errored",
}

func isRetryNoise(msg string) bool {
	for _, p := range retryNoise {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
