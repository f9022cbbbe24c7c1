package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
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
	c *kfake.Cluster
}

// StartBroker starts the embedded broker and returns once it accepts
// connections.
func StartBroker(cfg BrokerConfig, log *slog.Logger) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9092"
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: --listen %q is not host:port: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("broker: bad port in --listen %q", cfg.Listen)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID("gamepulse-embedded"),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
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
	return &Broker{c: c}, nil
}

// Addrs returns the addresses clients should bootstrap from.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker, flushing its data directory.
func (b *Broker) Close() { b.c.Close() }

// Outage makes the broker unreachable for d, from now: it closes the
// connection of every request it receives until then (a fault switch for
// the demo: producers fail, the gateway answers 503, consumers stall; no
// data is lost).
func (b *Broker) Outage(d time.Duration) {
	end := time.Now().Add(d)
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
