package kafka

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
)

// LagEvery is how often the components measure their consumer lag.
const LagEvery = 10 * time.Second

// WatchLag measures the lag of consumer groups every period until ctx
// ends and sets gauge, whose labels are "group", "topic", "partition" (or
// "topic", "partition" when withGroup is false, for a component with one
// group): records between a partition's committed offset and its end
// offset. Partitions that leave a group's commits are deleted from the
// gauge. Every instance of a component reports its whole group, so
// queries take the max over instances.
func WatchLag(ctx context.Context, adm *kadm.Client, groups []string, gauge *prometheus.GaugeVec, withGroup bool, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		measureLag(ctx, adm, groups, gauge, withGroup, every, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func measureLag(ctx context.Context, adm *kadm.Client, groups []string, gauge *prometheus.GaugeVec, withGroup bool, every time.Duration, log *slog.Logger) {
	mctx, cancel := context.WithTimeout(ctx, max(every, time.Second))
	defer cancel()
	lags, err := adm.Lag(mctx, groups...)
	if err != nil {
		if ctx.Err() == nil {
			log.Debug("consumer lag not measured", "err", err)
		}
		return
	}
	for _, g := range groups {
		dl, ok := lags[g]
		if !ok || dl.Error() != nil {
			continue
		}
		if withGroup {
			gauge.DeletePartialMatch(prometheus.Labels{"group": g})
		} else {
			gauge.Reset()
		}
		for _, l := range dl.Lag.Sorted() {
			if l.Lag < 0 {
				continue
			}
			labels := []string{l.Topic, strconv.Itoa(int(l.Partition))}
			if withGroup {
				labels = append([]string{g}, labels...)
			}
			gauge.WithLabelValues(labels...).Set(float64(l.Lag))
		}
	}
}
