package main

import (
	"context"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

// BrokerCommand is "gamepulse broker":
// embedded single-node Kafka-protocol broker (development, demo).
type BrokerCommand struct{}

func (*BrokerCommand) Name() string { return "broker" }
func (*BrokerCommand) Summary() string {
	return "embedded single-node Kafka-protocol broker (development, demo)"
}
func (*BrokerCommand) Usage() string {
	return `Usage: gamepulse broker --listen ADDR --data-dir DIR

Runs a durable single-node broker that speaks the Kafka protocol (franz-go's
kfake) in this process. Topics, committed offsets, consumer groups and
transactions persist in --data-dir across restarts. Any Kafka client or tool
can connect to it (kcat -b ADDR -L).

It has one node and no replication: use it for development and the demo, and
a real Kafka cluster in production (check it with gamepulse doctor).

Example:
  gamepulse broker --listen 127.0.0.1:9092 --data-dir ./data/broker`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *BrokerCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	var cfg kafka.BrokerConfig
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:9092", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.DataDir, "data-dir", "data/broker", "directory for the broker's durable state; empty keeps it in memory")
	fs.BoolVar(&cfg.SyncWrites, "sync-writes", true, "fsync each produced batch before acknowledging it")
	log, _, err := o.start(args, 0)
	if err != nil {
		return err
	}
	b, err := kafka.StartBroker(cfg, log)
	if err != nil {
		return err
	}
	log.Info("broker listening", "addrs", b.Addrs(), "data_dir", cfg.DataDir, "sync_writes", cfg.SyncWrites)
	<-ctx.Done()
	log.Info("broker stopping")
	b.Close()
	return nil
}
