package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	Listen     string // host:port to listen on; port 0 picks a free one
	DataDir    string // where topics, offsets, group and transaction state persist; empty: memory only
	SyncWrites bool   // fsync every produced batch before acknowledging it
}

// Broker is a single-node Kafka-protocol broker in this process: franz-go's
// kfake with a data directory. Any Kafka client can connect to it. It is for
// development, the demo and fast tests; it is not a replacement for a Kafka
// cluster (one node, no replication).
type Broker struct {
	c  *kfake.Cluster
	ln *pausableListener
}

// StartBroker starts the embedded broker and returns once it accepts
// connections.
func StartBroker(cfg BrokerConfig, log *slog.Logger) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9092"
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: Listen %q is not host:port: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("broker: bad port in Listen %q", cfg.Listen)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	var pl *pausableListener // set by ListenFn; one broker, one listener
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID("gamepulse-embedded"),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			inner, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				return nil, err
			}
			pl = newPausableListener(network, inner)
			return pl, nil
		}),
	}
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.SyncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	if log != nil {
		opts = append(opts, kfake.WithLogger(kfakeLogger{log}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("broker: start: %w", err)
	}
	if len(c.ListenAddrs()) == 0 {
		c.Close()
		return nil, errors.New("broker: started without a listener")
	}
	return &Broker{c: c, ln: pl}, nil
}

// Addrs returns the addresses clients should bootstrap from.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker, flushing its data directory.
func (b *Broker) Close() { b.c.Close() }

// Outage makes the broker unreachable for d, from now, as a broker that is
// down: it stops listening (new connections are refused) and closes the
// connection of every request on an open one until then (a fault switch
// for the demo: producers fail, the gateway answers 503, consumers stall;
// no data is lost).
func (b *Broker) Outage(d time.Duration) {
	end := time.Now().Add(d)
	if b.ln != nil {
		b.ln.pause(d)
	}
	b.c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		if time.Now().After(end) {
			b.c.DropControl()
			return nil, nil, false
		}
		b.c.KeepControl()
		return nil, errOutage, true
	})
}

var errOutage = errors.New("broker: outage (fault switch)")

type kfakeLogger struct{ log *slog.Logger }

func (l kfakeLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	s := fmt.Sprintf(msg, args...)
	switch level {
	case kfake.LogLevelError:
		l.log.Error(s, "component", "broker")
	case kfake.LogLevelWarn:
		if strings.Contains(s, " slow ") {
			// kfake calls an fsync'd transaction end taking a few ms slow;
			// with one transaction per poll that is noise, not news.
			l.log.Debug(s, "component", "broker")
			return
		}
		l.log.Warn(s, "component", "broker")
	case kfake.LogLevelInfo:
		l.log.Debug(s, "component", "broker") // kfake logs every request at info
	}
}

// pausableListener is the broker's listener, which an outage closes and
// reopens on the same address: clients see connection refused, as from a
// broker that is down, rather than connections closed after the dial
// (which franz-go takes for a TLS mismatch).
type pausableListener struct {
	network, addr string
	addrv         net.Addr

	mu     sync.Mutex
	ln     net.Listener  // nil while paused
	up     chan struct{} // closed when the listener is back (or closed for good)
	closed bool
}

func newPausableListener(network string, ln net.Listener) *pausableListener {
	up := make(chan struct{})
	close(up)
	return &pausableListener{network: network, addr: ln.Addr().String(), addrv: ln.Addr(), ln: ln, up: up}
}

func (p *pausableListener) Accept() (net.Conn, error) {
	for {
		p.mu.Lock()
		ln, up, closed := p.ln, p.up, p.closed
		p.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		if ln == nil {
			<-up
			continue
		}
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		p.mu.Lock()
		paused := p.ln != ln && !p.closed
		p.mu.Unlock()
		if !paused {
			return nil, err
		}
	}
}

// pause closes the listener and reopens it on the same address after d.
func (p *pausableListener) pause(d time.Duration) {
	p.mu.Lock()
	if p.closed || p.ln == nil {
		p.mu.Unlock()
		return
	}
	p.ln.Close()
	p.ln, p.up = nil, make(chan struct{})
	p.mu.Unlock()
	time.AfterFunc(d, p.resume)
}

func (p *pausableListener) resume() {
	var ln net.Listener
	for i := 0; i < 50; i++ { // the port is ours; a busy one frees within moments
		var err error
		if ln, err = net.Listen(p.network, p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		if ln != nil {
			ln.Close()
		}
		return
	}
	p.ln = ln // nil if it could not be reopened: the broker stays unreachable
	close(p.up)
}

func (p *pausableListener) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var err error
	if p.ln != nil {
		err = p.ln.Close()
	}
	select {
	case <-p.up:
	default:
		close(p.up)
	}
	return err
}

func (p *pausableListener) Addr() net.Addr { return p.addrv }
