package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/gateway"
	"github.com/gamepulse/gamepulse/internal/kafka"
)

// freeAddr returns an address nothing listens on.
func TestLoadtestFailsWhenTheGatewayIsUnreachable(t *testing.T) {
	out, _, err := runMain(t, nil, "loadtest", "--gateway", "http://"+freeAddr(t), "--api-key", "k",
		"--duration", "300ms", "--warmup", "0", "--concurrency", "2", "--batch-size", "10")
	if err == nil {
		t.Fatalf("exit 0 although every request failed:\n%s", out)
	}
	if !strings.Contains(err.Error(), "max-error-rate") {
		t.Errorf("error does not name the threshold: %v", err)
	}
	t.Log(out)
	if !strings.Contains(out, "connection refused") {
		t.Errorf("errors not reported by reason:\n%s", out)
	}
	if strings.Contains(out, "target max") {
		t.Errorf("labels an unpaced run's achieved rate as its target:\n%s", out)
	}
}

func TestLoadtestFailsWithAWrongKeyAndPassesWithTheRightOne(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topics := kafka.DefaultTopicConfig()
	topics.Partitions, topics.Replication = 1, 1
	cfg := gateway.DefaultConfig()
	cfg.Listen, cfg.Topic, cfg.Keys, cfg.RateLimit = "127.0.0.1:0", topics.Raw, map[string]string{"right": "gem-garden"}, 0
	cfg.EnsureDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	defer func() { cancel(); g.Wait() }()
	gw, err := startGateway(gctx, g, cfg, kafka.Config{Brokers: c.ListenAddrs()}, topics, time.Second, newRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	args := func(key string) []string {
		return []string{"loadtest", "--gateway", "http://" + gw.Addr, "--api-key", key, "--rate", "2000",
			"--duration", "500ms", "--warmup", "0", "--concurrency", "2", "--batch-size", "10"}
	}
	out, _, err := runMain(t, nil, args("wrong")...)
	if err == nil {
		t.Fatalf("exit 0 with a wrong key:\n%s", out)
	}
	if !strings.Contains(out, "401") {
		t.Errorf("errors not reported by status:\n%s", out)
	}
	out, _, err = runMain(t, nil, args("right")...)
	if err != nil {
		t.Fatalf("right key: %v\n%s", err, out)
	}
	t.Log(out)
	if !strings.Contains(out, "target 2000 ev/s") || !strings.Contains(out, "achieved") {
		t.Errorf("target and achieved rates not both labelled:\n%s", out)
	}
}
