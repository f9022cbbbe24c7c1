// Package pipelinetest drives the stream processor in tests: it feeds the
// raw topic with the simulator, waits until both stages have caught up,
// reads every output topic back (read_committed) and compares it with the
// batch oracle run over the same raw records. The kfake unit test and the
// real-Kafka integration tests (oracle, crash, rebalance, zombie) share it.
package pipelinetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/oracle"
	"github.com/gamepulse/gamepulse/internal/record"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

// SimRates is the FX table of the simulator's storefront currencies, for
// the processor and the oracle alike.
var SimRates = map[string]float64{"USD": 1, "EUR": 1.08, "GBP": 1.27, "BRL": 0.2, "JPY": 0.0067}

// StartEmbedded starts an in-memory embedded broker for the test and
// returns its connection options and the pipeline's topics with 3
// partitions, replication 1.
func StartEmbedded(t testing.TB) ([]kgo.Opt, kafka.Topics) {
	t.Helper()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	topics := kafka.DefaultTopicConfig()
	topics.Partitions, topics.Replication = 3, 1
	return []kgo.Opt{kgo.SeedBrokers(b.Addrs()...)}, topics
}

// SimConfig is a simulator configuration with every fault, starting at a
// fixed time in the past, so that runs are reproducible and no event is in
// the future of the time it is produced.
func SimConfig(seed int64, rate float64) simulate.Config {
	return simulate.Config{Seed: seed, Start: time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC), Rate: rate,
		Players: 20000, Duplicates: 0.02, Late: 0.02, Malformed: 0.01, LateDelay: 5 * time.Minute}
}

// Produce sends n simulated items to topic through the simulator's Kafka
// sink (keyed by player, binary Protobuf, received_at stamped), and returns
// the largest client_time among them.
func Produce(ctx context.Context, opts []kgo.Opt, topic string, sim simulate.Config, n int, progress func(sent int)) (time.Time, error) {
	return ProduceEncoded(ctx, opts, topic, record.EncodingProtobuf, sim, n, progress)
}

// ProduceEncoded is Produce in raw encoding enc.
func ProduceEncoded(ctx context.Context, opts []kgo.Opt, topic string, enc record.Encoding, sim simulate.Config, n int, progress func(sent int)) (time.Time, error) {
	g, err := simulate.New(sim)
	if err != nil {
		return time.Time{}, err
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kafka.ProducerOpts(100000)...)...)
	if err != nil {
		return time.Time{}, err
	}
	defer cl.Close()
	sink := simulate.NewKafkaSink(cl, topic, enc)
	var max time.Time
	items := make([]simulate.Item, 0, 5000)
	for i := 0; i < n; i++ {
		it := g.Next()
		if it.Event != nil {
			if t := it.Event.GetClientTime().AsTime(); t.After(max) {
				max = t
			}
		}
		items = append(items, it)
		if len(items) == cap(items) || i == n-1 {
			if _, _, err := sink.Send(ctx, items); err != nil {
				return max, err
			}
			items = items[:0]
			if progress != nil {
				progress(i + 1)
			}
		}
	}
	return max, sink.Close(ctx)
}

// ProduceSentinels sends, to every partition of topic, one login event of a
// player of that partition at time at, in a session of its own (which
// stays open). Placed well after
// the data (at ≥ max client_time + session gap + lateness), they close every
// session and make the watermark pass every window of the data, so that all
// of it is final; the oracle sees them like any other event.
func ProduceSentinels(ctx context.Context, opts []kgo.Opt, topic string, partitions int, game string, at time.Time) error {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kafka.ProducerOpts(1000)...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	now := time.Now()
	var recs []*kgo.Record
	for p := 0; p < partitions; p++ {
		player := ""
		for i := 0; ; i++ {
			player = "sentinel-" + strconv.Itoa(i)
			if oracle.Partition(player, partitions) == p {
				break
			}
		}
		e := &event.Event{SchemaVersion: 1, EventId: "sentinel-" + strconv.Itoa(p), EventType: event.TypeLogin, GameId: game,
			PlayerId: player, SessionId: "sentinel-session-" + strconv.Itoa(p), Seq: 1, ClientTime: timestamppb.New(at), ReceivedAt: timestamppb.New(now),
			Platform: "ios", AppVersion: "1.0.0", Country: "US",
			Payload: &event.Event_Login{Login: &event.Login{Method: "guest"}}}
		v, err := proto.Marshal(e)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(player), Value: v})
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// WaitCaughtUp waits until the processor's stage-1 group has committed the
// raw topic up to its end, and then its stage-2 group the partials topic up
// to the end it had at that moment.
func WaitCaughtUp(ctx context.Context, opts []kgo.Opt, appID string, topics kafka.Topics, partials string) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	wait := func(group, topic string) error {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return err
		}
		for {
			committed, err := adm.FetchOffsets(ctx, group)
			if err == nil {
				behind := int64(0)
				ends.Each(func(o kadm.ListedOffset) {
					c, ok := committed.Lookup(topic, o.Partition)
					if !ok {
						behind += o.Offset
					} else if c.At < o.Offset {
						behind += o.Offset - c.At
					}
				})
				if behind == 0 {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for group %s to catch up on %s: %w", group, topic, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if err := wait(appID+".stage1", topics.Raw); err != nil {
		return err
	}
	return wait(appID+".stage2", partials)
}

// RunOracle reads the raw topic (read_committed) and runs the oracle over
// it, partition by partition in offset order, each record in the encoding
// its content-type header names.
func RunOracle(ctx context.Context, opts []kgo.Opt, topic string, p oracle.Params) (*oracle.Report, error) {
	recs, err := kafka.ReadAll(ctx, opts, topic)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	o, err := oracle.New(p)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		rec := oracle.DecodeRaw(r.Value, record.RawEncoding(r.Headers))
		rec.Partition, rec.HasPartition = int(r.Partition), true
		o.Add(rec)
	}
	return o.Report(), nil
}

// Outputs are the processor's output topics, read back.
type Outputs struct {
	Raw          int
	DeadLetters  map[string]int64 // by code header
	Enriched     int
	EnrichedIDs  map[string]int // event_id → copies
	Late         int
	Sessions     []oracle.Session
	KPI          map[string]map[string]any // key → last value (JSON object)
	KPIVersions  map[string][]int64        // key → versions in offset order
	Completeness map[string]oracle.Completeness
	Watermark    time.Time // the highest watermark among the KPI rows
}

// ReadOutputs reads every output topic up to its last stable offset.
func ReadOutputs(ctx context.Context, opts []kgo.Opt, topics kafka.Topics) (*Outputs, error) {
	o := &Outputs{DeadLetters: map[string]int64{}, EnrichedIDs: map[string]int{}, KPI: map[string]map[string]any{},
		KPIVersions: map[string][]int64{}, Completeness: map[string]oracle.Completeness{}}
	read := func(topic string) ([]*kgo.Record, error) {
		recs, err := kafka.ReadAll(ctx, opts, topic)
		sort.SliceStable(recs, func(i, j int) bool {
			if recs[i].Partition != recs[j].Partition {
				return recs[i].Partition < recs[j].Partition
			}
			return recs[i].Offset < recs[j].Offset
		})
		return recs, err
	}
	raw, err := read(topics.Raw)
	if err != nil {
		return nil, err
	}
	o.Raw = len(raw)
	dl, err := read(topics.DeadLetter)
	if err != nil {
		return nil, err
	}
	for _, r := range dl {
		code := ""
		for _, h := range r.Headers {
			if h.Key == "code" {
				code = string(h.Value)
			}
		}
		o.DeadLetters[code]++
	}
	enr, err := read(topics.Enriched)
	if err != nil {
		return nil, err
	}
	o.Enriched = len(enr)
	for _, r := range enr {
		var v struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return nil, fmt.Errorf("enriched record: %w", err)
		}
		o.EnrichedIDs[v.EventID]++
	}
	late, err := read(topics.Late)
	if err != nil {
		return nil, err
	}
	o.Late = len(late)
	ss, err := read(topics.Sessions)
	if err != nil {
		return nil, err
	}
	for _, r := range ss {
		var s oracle.Session
		if err := json.Unmarshal(r.Value, &s); err != nil {
			return nil, fmt.Errorf("session record: %w", err)
		}
		o.Sessions = append(o.Sessions, s)
	}
	kp, err := read(topics.KPI)
	if err != nil {
		return nil, err
	}
	for _, r := range kp {
		k := string(r.Key)
		if strings.HasPrefix(k, "completeness|") {
			var c struct {
				Game, Platform   string
				AppBuild         string `json:"app_build"`
				Start            time.Time
				Gaps, Duplicates int64
				OutOfOrder       int64 `json:"out_of_order"`
			}
			if err := json.Unmarshal(r.Value, &c); err != nil {
				return nil, fmt.Errorf("completeness record: %w", err)
			}
			oc := oracle.Completeness{Game: c.Game, Platform: c.Platform, AppBuild: c.AppBuild, Minute: c.Start,
				Gaps: c.Gaps, Duplicates: c.Duplicates, OutOfOrder: c.OutOfOrder}
			o.Completeness[completenessKey(oc)] = oc
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return nil, fmt.Errorf("kpi record: %w", err)
		}
		o.KPI[k] = v
		ver, _ := v["version"].(float64)
		o.KPIVersions[k] = append(o.KPIVersions[k], int64(ver))
		if w, ok := v["watermark"].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, w); err == nil && t.After(o.Watermark) {
				o.Watermark = t
			}
		}
	}
	return o, nil
}

func completenessKey(c oracle.Completeness) string {
	return c.Game + "|" + c.Platform + "|" + c.AppBuild + "|" + c.Minute.UTC().Format(time.RFC3339)
}

// Compare checks the outputs against the oracle's report: exactly once
// (every enriched event_id once, every KPI version once and in order),
// dead letters by code, processed and duplicate counts, closed sessions as
// a multiset, every KPI row whose window ended at or before the final
// watermark, and completeness. It returns every difference found (at most
// a few per kind).
func Compare(out *Outputs, rep *oracle.Report) error {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	// Exactly once.
	dup := 0
	for id, n := range out.EnrichedIDs {
		if n > 1 && dup < 5 {
			add("enriched event %s appears %d times", id, n)
			dup++
		}
	}
	bad := 0
	for k, vs := range out.KPIVersions {
		for i, v := range vs {
			if v != int64(i+1) && bad < 5 {
				add("kpi row %s: versions %v, want 1..%d each once", k, vs, len(vs))
				bad++
				break
			}
		}
	}

	// Counts.
	codes := map[string]bool{}
	for c := range out.DeadLetters {
		codes[c] = true
	}
	for c := range rep.DeadLetters {
		codes[c] = true
	}
	for c := range codes {
		if out.DeadLetters[c] != rep.DeadLetters[c] {
			add("dead letters %s: pipeline %d, oracle %d", c, out.DeadLetters[c], rep.DeadLetters[c])
		}
	}
	if int64(out.Enriched) != rep.Processed {
		add("enriched events: pipeline %d, oracle processed %d", out.Enriched, rep.Processed)
	}
	var dead int64
	for _, n := range out.DeadLetters {
		dead += n
	}
	if dups := int64(out.Raw) - dead - int64(out.Enriched); dups != rep.DuplicateEvents+rep.DuplicatePurchases {
		add("duplicates dropped: pipeline %d (raw − dead letters − enriched), oracle %d", dups, rep.DuplicateEvents+rep.DuplicatePurchases)
	}

	// Sessions, as multisets of their JSON.
	count := map[string]int{}
	for _, s := range out.Sessions {
		count[sessionString(s)]++
	}
	for _, s := range rep.Sessions {
		count[sessionString(s)]--
	}
	n := 0
	for s, c := range count {
		if c != 0 && n < 8 {
			if c > 0 {
				add("session only in the pipeline (×%d): %s", c, s)
			} else {
				add("session only in the oracle (×%d): %s", -c, s)
			}
			n++
		}
	}
	if len(out.Sessions) != len(rep.Sessions) {
		add("sessions: pipeline %d, oracle %d", len(out.Sessions), len(rep.Sessions))
	}

	// KPI rows final by the end.
	n = 0
	checked := 0
	for _, want := range rep.KPIs {
		size := time.Minute
		if want.Window == "hour" {
			size = time.Hour
		}
		if want.Start.Add(size).After(out.Watermark) {
			continue
		}
		checked++
		got, ok := out.KPI[want.Key]
		if !ok {
			if n < 8 {
				add("kpi row %s: missing from the pipeline (oracle: %d active)", want.Key, want.ActivePlayersExact)
			}
			n++
			continue
		}
		if d := kpiDiff(got, want); d != "" {
			if n < 8 {
				add("kpi row %s: %s", want.Key, d)
			}
			n++
		}
	}
	if checked == 0 {
		add("no KPI row of the oracle ended by the pipeline's watermark %s", out.Watermark)
	}
	oracleKeys := map[string]bool{}
	for _, k := range rep.KPIs {
		oracleKeys[k.Key] = true
	}
	for k := range out.KPI {
		if !oracleKeys[k] && n < 8 {
			add("kpi row %s: only in the pipeline", k)
			n++
		}
	}
	if n > 8 {
		add("… %d KPI rows differ in all", n)
	}

	// Completeness.
	want := map[string]oracle.Completeness{}
	for _, c := range rep.Completeness {
		want[completenessKey(c)] = c
	}
	n = 0
	for k, c := range want {
		g := out.Completeness[k]
		if (g.Gaps != c.Gaps || g.Duplicates != c.Duplicates || g.OutOfOrder != c.OutOfOrder) && n < 8 {
			add("completeness %s: pipeline gaps/dups/ooo %d/%d/%d, oracle %d/%d/%d", k, g.Gaps, g.Duplicates, g.OutOfOrder, c.Gaps, c.Duplicates, c.OutOfOrder)
			n++
		}
	}
	for k, g := range out.Completeness {
		if _, ok := want[k]; !ok && (g.Gaps != 0 || g.Duplicates != 0 || g.OutOfOrder != 0) && n < 8 {
			add("completeness %s: only in the pipeline: %+v", k, g)
			n++
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	return errors.New(strings.Join(diffs, "\n"))
}

func sessionString(s oracle.Session) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// kpiDiff compares a KPI record (JSON) with the oracle's row.
func kpiDiff(got map[string]any, want oracle.KPI) string {
	num := func(k string) int64 { f, _ := got[k].(float64); return int64(f) }
	var d []string
	check := func(name string, g, w int64) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %d, oracle %d", name, g, w))
		}
	}
	// The pipeline's merged sketch must estimate exactly what one sketch of
	// the oracle's exact set estimates, and that within 3 standard errors
	// (3 × 0.81 %) of the exact count.
	check("active_players", num("active_players"), int64(want.ActivePlayers))
	if e := want.ActivePlayersExact; e > 0 {
		if rel := math.Abs(float64(num("active_players"))-float64(e)) / float64(e); rel > 0.0243 {
			d = append(d, fmt.Sprintf("active_players %d is %.2f%% from the exact %d (over 3 standard errors)", num("active_players"), rel*100, e))
		}
	}
	check("payers", num("payers"), int64(want.Payers))
	check("new_players", num("new_players"), want.NewPlayers)
	check("sessions_started", num("sessions_started"), want.SessionsStarted)
	check("purchases", num("purchases"), want.Purchases)
	check("revenue_usd_micros", num("revenue_usd_micros"), want.RevenueMicros)
	check("purchase_revenue_usd_micros", num("purchase_revenue_usd_micros"), want.PurchaseRevenueMicros)
	check("refunds", num("refunds"), want.Refunds)
	check("refund_usd_micros", num("refund_usd_micros"), want.RefundMicros)
	check("ad_impressions", num("ad_impressions"), want.AdImpressions)
	check("ad_revenue_usd_micros", num("ad_revenue_usd_micros"), want.AdRevenueMicros)
	levels := map[int64][3]int64{}
	if ls, ok := got["levels"].([]any); ok {
		for _, l := range ls {
			m, _ := l.(map[string]any)
			f := func(k string) int64 { v, _ := m[k].(float64); return int64(v) }
			levels[f("level")] = [3]int64{f("starts"), f("completions"), f("fails")}
		}
	}
	for _, l := range want.Levels {
		w := [3]int64{l.Starts, l.Completions, l.Fails}
		if levels[int64(l.Level)] != w {
			d = append(d, fmt.Sprintf("level %d %v, oracle %v", l.Level, levels[int64(l.Level)], w))
		}
		delete(levels, int64(l.Level))
	}
	for l, v := range levels {
		if v != [3]int64{} {
			d = append(d, fmt.Sprintf("level %d %v only in the pipeline", l, v))
		}
	}
	return strings.Join(d, "; ")
}
