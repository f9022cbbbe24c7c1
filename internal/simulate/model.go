package simulate

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
)

const (
	second = int64(1e9)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
)

// gameState is a Game with its precomputed tables and install counter.
type gameState struct {
	Game
	idx       int
	base      int         // players installed before Start
	installed int         // installs since Start
	platCum   [][]float64 // per country: cumulative weights over platforms
	platIdx   []int       // platforms[] index of each of Game.Platforms
	builds    [][]string  // [version][platform of Game.Platforms] app_build
	skus      []string    // per price tier
}

func (g *Generator) initGames() {
	total := 0.0
	for _, gm := range g.cfg.Games {
		total += gm.Weight
	}
	cum := 0.0
	for i, gm := range g.cfg.Games {
		gs := &gameState{Game: gm, idx: i}
		gs.base = max(1, int(float64(g.cfg.Players)*gm.Weight/total))
		for _, p := range gm.Platforms {
			gs.platIdx = append(gs.platIdx, platformIndex(p))
		}
		for _, c := range countries {
			var w []float64
			s := 0.0
			for _, pi := range gs.platIdx {
				x := platforms[pi].weight
				if platforms[pi].apple {
					x *= c.iosBias
				}
				s += x
				w = append(w, s)
			}
			gs.platCum = append(gs.platCum, w)
		}
		for vi, v := range gm.Versions {
			row := make([]string, len(gs.platIdx))
			for j, pi := range gs.platIdx {
				row[j] = v + "+" + strconv.Itoa(4000+100*vi+7*pi+i)
			}
			gs.builds = append(gs.builds, row)
		}
		prefix := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(gm.ID))
		for _, n := range tierGems {
			gs.skus = append(gs.skus, prefix+".gems_"+strconv.FormatInt(n, 10))
		}
		g.games = append(g.games, gs)
		cum += gm.Weight
		g.gameCum = append(g.gameCum, cum)
	}
}

// player is what the generator remembers of a player who has played in this
// run; players who have not are derived from their index on demand.
type player struct {
	install  int64 // unix ns
	last     int64 // start of the latest session in this run, 0 if none
	coins    int64
	gems     int64
	idx      uint32
	level    int32
	sessions int32
	game     uint8
	country  uint8
	platform uint8 // index into the game's Platforms
	device   uint8
	version  uint8
	payer    bool
	online   bool
}

// session is one open play session.
type session struct {
	p        *player
	game     *gameState
	id       string
	playerID string
	seq      uint64
	start    int64 // unix ns of session_start
	end      int64 // planned end
	inLevel  bool
	levelAt  int64
	levelEnd int64
	pending  []followUp
	device   *event.Device
	version  string
	build    string
	country  *country
	platform *platform
}

// followUp is an event that follows from an earlier one within a second or
// two: the login after session_start, the reward after a won level, ...
type followUp struct {
	kind fuKind
	n    int64
	a, b string
}

type fuKind uint8

const (
	fuLogin    fuKind = iota // a: method
	fuEarn                   // a: currency, b: reason, n: amount
	fuSpend                  // a: currency, b: item, n: amount
	fuAd                     // a: placement
	fuTutorial               // n: step
)

// task is an entry of the schedule: the next event of a session, or a
// store refund due at a time.
type task struct {
	due int64
	s   *session
	r   *refund
}

type refund struct {
	game                                  *gameState
	playerID, tx, sku, currency, platform string
	country                               string
	amount                                float64
}

type taskHeap []*task

func (h *taskHeap) push(t *task) {
	*h = append(*h, t)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[i].due >= s[p].due {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *taskHeap) pop() *task {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].due < s[m].due {
			m = l
		}
		if r := l + 1; r < len(s) && s[r].due < s[m].due {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// activity is the diurnal curve at the current simulated minute: the
// population-weighted local activity of every country, normalised so its
// daily mean is 1, and the countries' shares of new sessions at that time.
type activity struct {
	minute int64 // unix minute the values are for
	level  float64
	rel    [16]float64 // per country: local activity, 0..1
	cum    []float64   // per country: cumulative weight of new players
	norm   float64
}

func (a *activity) init() {
	a.minute = math.MinInt64
	a.cum = make([]float64, len(countries))
	sum := 0.0
	for m := int64(0); m < 1440; m++ {
		sum += a.raw(m * minute)
	}
	a.norm = sum / 1440
}

// raw fills rel and cum for unix time t and returns the weighted activity.
func (a *activity) raw(t int64) float64 {
	s := 0.0
	for i, c := range countries {
		m := ((t/minute+int64(c.tzMin))%1440 + 1440) % 1440
		h := int(m / 60)
		f := float64(m%60) / 60
		v := localActivity[h]*(1-f) + localActivity[(h+1)%24]*f
		a.rel[i] = v
		s += c.weight * v
		a.cum[i] = s
	}
	return s
}

func (a *activity) at(t int64) *activity {
	if m := t / minute; m != a.minute {
		a.minute = m
		a.level = a.raw(t) / a.norm
	}
	return a
}

// --- randomness helpers ---

func pickCum(r *rand.Rand, cum []float64) int {
	u := r.Float64() * cum[len(cum)-1]
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

func pickW(r *rand.Rand, ws []weighted) string {
	total := 0.0
	for _, w := range ws {
		total += w.w
	}
	u := r.Float64() * total
	for _, w := range ws {
		if u < w.w {
			return w.v
		}
		u -= w.w
	}
	return ws[len(ws)-1].v
}

// lognormal draws around median with the given log-space sigma, clamped.
func lognormal(r *rand.Rand, median int64, sigma float64, lo, hi int64) int64 {
	v := int64(float64(median) * math.Exp(sigma*r.NormFloat64()))
	return min(max(v, lo), hi)
}

const hexDigits = "0123456789abcdef"

// uuidFrom formats 128 bits as a version-4 UUID.
func uuidFrom(hi, lo uint64) string {
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var b [36]byte
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		b[j] = hexDigits[nib]
		j++
	}
	return string(b[:])
}

func uuid(r *rand.Rand) string { return uuidFrom(r.Uint64(), r.Uint64()) }

// splitmix is a counter-based hash stream: the same seed gives the same
// numbers, which derives a player's attributes from its index alone.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (s *splitmix) float() float64 { return float64(s.next()>>11) / (1 << 53) }

func cumIndex(cum []float64, u float64) int {
	u *= cum[len(cum)-1]
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

func timestamp(ns int64) *timestamppb.Timestamp {
	ns -= ns % 1e6 // clients report milliseconds
	return &timestamppb.Timestamp{Seconds: ns / 1e9, Nanos: int32(ns % 1e9)}
}

// --- the population ---

var countryCum = func() []float64 {
	var cum []float64
	s := 0.0
	for _, c := range countries {
		s += c.weight
		cum = append(cum, s)
	}
	return cum
}()

func (g *Generator) playerKey(game int, idx uint32) uint64 { return uint64(game)<<32 | uint64(idx) }

func (g *Generator) hash(game int, idx uint32, stream uint64) splitmix {
	h := splitmix(uint64(g.cfg.Seed) ^ stream)
	h = splitmix(h.next() ^ uint64(game)<<40 ^ uint64(idx))
	h.next()
	return h
}

// playerID is a player's stable id: a UUID derived from seed, game and index.
func (g *Generator) playerID(game int, idx uint32) string {
	h := g.hash(game, idx, 0x1d)
	return uuidFrom(h.next(), h.next())
}

// derive returns a player installed before Start, from its index alone.
// Installs skew recent (the game is growing); older players have progressed
// further and hold more currency.
func (g *Generator) derive(gs *gameState, idx uint32) player {
	h := g.hash(gs.idx, idx, 0xa7)
	p := player{idx: idx, game: uint8(gs.idx)}
	p.country = uint8(cumIndex(countryCum, h.float()))
	p.platform = uint8(cumIndex(gs.platCum[p.country], h.float()))
	p.device = uint8(h.next() % uint64(len(platforms[gs.platIdx[p.platform]].devices)))
	v := len(gs.Versions) - 1
	for u := h.float(); u > 0.6 && v > 0; u = (u - 0.6) / 0.4 {
		v--
	}
	p.version = uint8(v)
	u := h.float()
	ageDays := 180 * u * u
	p.install = g.start - int64(ageDays*float64(day)) - int64(h.float()*float64(hour))
	p.payer = h.float() < gs.PayerShare
	p.level = 1 + int32(6*math.Pow(ageDays, 0.6)*(0.3+h.float()))
	p.coins = 100 + int64(h.float()*2000)
	p.gems = 10 + int64(h.float()*60)
	if p.payer {
		p.gems += 200 + int64(h.float()*1500)
	}
	return p
}

// install creates a player who installs the game now. Their country follows
// the time of day: more installs where it is evening.
func (g *Generator) install(gs *gameState) *player {
	idx := uint32(gs.base + gs.installed)
	gs.installed++
	a := g.act.at(g.now)
	p := &player{idx: idx, game: uint8(gs.idx), install: g.now, level: 1, coins: 100, gems: 10}
	p.country = uint8(pickCum(g.rng, a.cum))
	p.platform = uint8(pickCum(g.rng, gs.platCum[p.country]))
	p.device = uint8(g.rng.IntN(len(platforms[gs.platIdx[p.platform]].devices)))
	p.version = uint8(len(gs.Versions) - 1)
	p.payer = g.rng.Float64() < gs.PayerShare
	g.players[g.playerKey(gs.idx, idx)] = p
	return p
}

// pickPlayer chooses who starts a session: a new install with probability
// NewPlayers, else a returning player who is not online, accepted with a
// probability that falls with the time since install (retention) and
// follows the local time of day of their country.
func (g *Generator) pickPlayer(gs *gameState) *player {
	if g.rng.Float64() < g.cfg.NewPlayers {
		return g.install(gs)
	}
	a := g.act.at(g.now)
	total := gs.base + gs.installed
	for range 32 {
		idx := uint32(g.rng.IntN(total))
		key := g.playerKey(gs.idx, idx)
		p, stored := g.players[key]
		var tmp player
		if !stored {
			tmp = g.derive(gs, idx)
			p = &tmp
		}
		if p.online {
			continue
		}
		ageDays := float64(g.now-p.install) / float64(day)
		if g.rng.Float64() >= a.rel[p.country]/math.Sqrt(1+max(0, ageDays)) {
			continue
		}
		if !stored {
			p = new(player)
			*p = tmp
			g.players[key] = p
		}
		return p
	}
	return g.install(gs)
}

// --- sessions ---

// modelEvent returns the population's next event: the earliest due event of
// an open session (or a refund), or, when nothing is due yet, a new session.
// The schedule thus sets how many sessions are open: as many as it takes to
// fill Rate events per second.
func (g *Generator) modelEvent() (*event.Event, string) {
	if len(g.tasks) > 0 {
		if t := g.tasks[0]; t.due <= g.now || g.online >= g.cfg.MaxOnline {
			g.tasks.pop()
			if t.r != nil {
				return g.refundEvent(t.r), t.r.game.ID
			}
			s := t.s
			ev, done := g.step(s)
			if done {
				s.p.online = false
				g.online--
			} else {
				t.due = g.nextDue(s)
				g.tasks.push(t)
			}
			return ev, s.game.ID
		}
	}
	return g.startSession()
}

func (g *Generator) startSession() (*event.Event, string) {
	gs := g.games[pickCum(g.rng, g.gameCum)]
	p := g.pickPlayer(gs)
	p.online = true
	g.online++
	p.sessions++
	if int(p.version) < len(gs.Versions)-1 && g.rng.Float64() < 0.3 {
		p.version++ // the store updated the app
	}
	plat := &platforms[gs.platIdx[p.platform]]
	c := &countries[p.country]
	dev := plat.devices[p.device]
	s := &session{
		p: p, game: gs, id: uuid(g.rng), playerID: g.playerID(gs.idx, p.idx),
		start:    g.now,
		end:      g.now + lognormal(g.rng, int64(gs.SessionMedian), 0.8, 20*second, 3*hour),
		device:   &event.Device{Model: dev.model, OsVersion: dev.os, Locale: c.locale},
		version:  gs.Versions[p.version],
		build:    gs.builds[p.version][p.platform],
		country:  c,
		platform: plat,
	}
	firstEver := p.install == g.now
	switch {
	case firstEver:
		s.pending = append(s.pending, followUp{kind: fuLogin, a: "guest"})
		for i := range 3 + g.rng.IntN(3) {
			s.pending = append(s.pending, followUp{kind: fuTutorial, n: int64(i + 1)})
		}
	default:
		if g.rng.Float64() < 0.85 {
			s.pending = append(s.pending, followUp{kind: fuLogin, a: pickW(g.rng, plat.logins)})
		}
		newDay := p.last == 0 && g.rng.Float64() < 0.5 || p.last != 0 && p.last/day != g.now/day
		if newDay {
			s.pending = append(s.pending, followUp{kind: fuEarn, a: "coins", b: "daily_bonus", n: 100})
		}
	}
	p.last = g.now
	entry := pickW(g.rng, plat.entries)
	if firstEver {
		entry = "install"
	}
	ev := g.envelope(s, event.TypeSessionStart)
	ev.Payload = &event.Event_SessionStart{SessionStart: &event.SessionStart{EntryPoint: entry}}
	g.tasks.push(&task{due: g.nextDue(s), s: s})
	return ev, gs.ID
}

// nextDue schedules a session's next event. Thinking and playing time
// stretch with the diurnal activity level, so that at peak hours more
// players are online to fill the same event rate.
func (g *Generator) nextDue(s *session) int64 {
	now := g.now
	follow := now + 400*1e6 + g.rng.Int64N(2100*1e6) // 0.4–2.5 s
	switch {
	case len(s.pending) > 0:
		return follow
	case s.inLevel:
		return max(s.levelEnd, now+300*1e6)
	case now >= s.end:
		return follow
	}
	think := second + int64(g.rng.ExpFloat64()*6*float64(second)*g.act.at(now).level)
	return min(now+think, max(s.end, now+300*1e6))
}

func (g *Generator) envelope(s *session, typ string) *event.Event {
	s.seq++
	return &event.Event{
		SchemaVersion: event.SchemaVersion,
		EventId:       uuid(g.rng),
		EventType:     typ,
		GameId:        s.game.ID,
		PlayerId:      s.playerID,
		SessionId:     s.id,
		Seq:           s.seq,
		ClientTime:    timestamp(g.now),
		Platform:      s.platform.name,
		AppVersion:    s.version,
		AppBuild:      s.build,
		Country:       s.country.code,
		Device:        s.device,
	}
}

// step produces a session's due event; done means it was the session_end.
func (g *Generator) step(s *session) (ev *event.Event, done bool) {
	switch {
	case len(s.pending) > 0:
		f := s.pending[0]
		s.pending = s.pending[1:]
		return g.followUp(s, f), false
	case s.inLevel:
		return g.levelOutcome(s), false
	case g.now >= s.end:
		ev = g.envelope(s, event.TypeSessionEnd)
		ev.Payload = &event.Event_SessionEnd{SessionEnd: &event.SessionEnd{DurationMs: (g.now - s.start) / 1e6}}
		return ev, true
	}
	return g.menuAction(s), false
}

// failRate is the chance of failing level l: it rises with the level and
// saturates, every 10th level is a boss level, and Difficulty scales it.
func failRate(l int32, difficulty float64) float64 {
	f := 0.10 + 0.32*(1-math.Exp(-float64(l)/40))
	if l%10 == 0 {
		f += 0.22
	}
	return min(max(f*difficulty, 0.02), 0.92)
}

func (g *Generator) levelOutcome(s *session) *event.Event {
	s.inLevel = false
	p := s.p
	lv := &event.Level{Level: p.level, DurationMs: (g.now - s.levelAt) / 1e6}
	ads := s.game.Ads && !p.payer
	if g.rng.Float64() < failRate(p.level, s.game.Difficulty) {
		lv.Score = int64((300 + 20*float64(p.level)) * (0.2 + 0.5*g.rng.Float64()))
		switch {
		case ads && g.rng.Float64() < 0.3:
			s.pending = append(s.pending, followUp{kind: fuAd, a: placementRewarded.name},
				followUp{kind: fuEarn, a: "coins", b: "ad_reward", n: 50})
		case p.gems >= 10 && g.rng.Float64() < 0.12:
			s.pending = append(s.pending, followUp{kind: fuSpend, a: "gems", b: "continue", n: 10})
		}
		ev := g.envelope(s, event.TypeLevelFail)
		ev.Payload = &event.Event_LevelFail{LevelFail: lv}
		return ev
	}
	stars := 1 + g.rng.IntN(3)
	lv.Score = int64((300 + 20*float64(p.level)) * float64(stars) * (0.9 + 0.2*g.rng.Float64()))
	reward := int64(20 + 5*stars + int(p.level)/2)
	s.pending = append(s.pending, followUp{kind: fuEarn, a: "coins", b: "level_reward", n: reward})
	if ads && g.rng.Float64() < 0.35 {
		s.pending = append(s.pending, followUp{kind: fuAd, a: placementInterstitial.name})
	}
	p.level++
	ev := g.envelope(s, event.TypeLevelComplete)
	ev.Payload = &event.Event_LevelComplete{LevelComplete: lv}
	return ev
}

// menuAction is what a player does between levels.
func (g *Generator) menuAction(s *session) *event.Event {
	p := s.p
	const (
		aLevel = iota
		aCustom
		aSpend
		aEarn
		aAd
		aBuy
	)
	var w [6]float64
	w[aLevel] = 55
	w[aCustom] = 6
	if p.coins >= 50 || p.gems >= 30 {
		w[aSpend] = 10
	}
	w[aEarn] = 3
	if s.game.Ads && !p.payer {
		w[aAd] = 8
	}
	if p.payer {
		w[aBuy] = 4
	}
	cum := w
	for i := 1; i < len(cum); i++ {
		cum[i] += cum[i-1]
	}
	switch pickCum(g.rng, cum[:]) {
	case aCustom:
		return g.customEvent(s)
	case aSpend:
		if p.coins >= 50 {
			n := min(p.coins, 50+10*g.rng.Int64N(16))
			return g.followUp(s, followUp{kind: fuSpend, a: "coins", b: boosters[g.rng.IntN(len(boosters))], n: n})
		}
		return g.followUp(s, followUp{kind: fuSpend, a: "gems", b: "skin_" + strconv.Itoa(1+g.rng.IntN(24)), n: 30})
	case aEarn:
		return g.followUp(s, followUp{kind: fuEarn, a: "coins", b: "quest_reward", n: 50 + 10*g.rng.Int64N(11)})
	case aAd:
		return g.followUp(s, followUp{kind: fuAd, a: placementBanner.name})
	case aBuy:
		return g.purchase(s)
	}
	s.inLevel = true
	s.levelAt = g.now
	d := lognormal(g.rng, int64(s.game.LevelMedian), 0.5, 5*second, 30*minute)
	s.levelEnd = g.now + int64(float64(d)*g.act.at(g.now).level)
	ev := g.envelope(s, event.TypeLevelStart)
	ev.Payload = &event.Event_LevelStart{LevelStart: &event.Level{Level: p.level}}
	return ev
}

func (g *Generator) followUp(s *session, f followUp) *event.Event {
	switch f.kind {
	case fuLogin:
		ev := g.envelope(s, event.TypeLogin)
		ev.Payload = &event.Event_Login{Login: &event.Login{Method: f.a}}
		return ev
	case fuEarn:
		g.balance(s.p, f.a, f.n)
		ev := g.envelope(s, event.TypeCurrencyEarn)
		ev.Payload = &event.Event_CurrencyEarn{CurrencyEarn: &event.VirtualCurrency{Currency: f.a, Amount: f.n, Reason: f.b}}
		return ev
	case fuSpend:
		g.balance(s.p, f.a, -f.n)
		ev := g.envelope(s, event.TypeCurrencySpend)
		ev.Payload = &event.Event_CurrencySpend{CurrencySpend: &event.VirtualCurrency{Currency: f.a, Amount: f.n, Reason: "shop", Item: f.b}}
		return ev
	case fuAd:
		return g.adImpression(s, f.a)
	}
	step := int(f.n)
	ev := g.envelope(s, event.TypeCustom)
	ev.Payload = &event.Event_Custom{Custom: &event.Custom{Name: "tutorial_step", Properties: &structpb.Struct{
		Fields: map[string]*structpb.Value{
			"step": structpb.NewNumberValue(float64(step)),
			"name": structpb.NewStringValue(tutorialSteps[(step-1)%len(tutorialSteps)]),
		}}}}
	return ev
}

func (g *Generator) balance(p *player, currency string, n int64) {
	if currency == "gems" {
		p.gems = max(0, p.gems+n)
	} else {
		p.coins = max(0, p.coins+n)
	}
}

func (g *Generator) adImpression(s *session, placementName string) *event.Event {
	pl := placementBanner
	switch placementName {
	case placementInterstitial.name:
		pl = placementInterstitial
	case placementRewarded.name:
		pl = placementRewarded
	}
	rev := pl.ecpm / 1000 * s.country.adTier * math.Exp(0.45*g.rng.NormFloat64())
	ev := g.envelope(s, event.TypeAdImpression)
	ev.Payload = &event.Event_AdImpression{AdImpression: &event.AdImpression{
		Network: pickW(g.rng, adNetworks), Placement: pl.name,
		Revenue: math.Round(rev*1e6) / 1e6, Currency: "USD",
	}}
	return ev
}

func (g *Generator) customEvent(s *session) *event.Event {
	name := pickW(g.rng, customEventNames)
	f := map[string]*structpb.Value{}
	switch name {
	case "shop_opened":
		f["tab"] = structpb.NewStringValue(customShopTabs[g.rng.IntN(len(customShopTabs))])
	case "settings_changed":
		f["setting"] = structpb.NewStringValue(customSettings[g.rng.IntN(len(customSettings))])
		f["value"] = structpb.NewBoolValue(g.rng.IntN(2) == 0)
	case "friend_invited":
		f["channel"] = structpb.NewStringValue(customChannels[g.rng.IntN(len(customChannels))])
	case "daily_quest_claimed":
		f["quest"] = structpb.NewStringValue(customQuests[g.rng.IntN(len(customQuests))])
		f["progress"] = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"done": structpb.NewNumberValue(float64(1 + g.rng.IntN(5))), "of": structpb.NewNumberValue(5),
		}})
	case "push_opt_in":
		f["granted"] = structpb.NewBoolValue(g.rng.Float64() < 0.55)
	}
	ev := g.envelope(s, event.TypeCustom)
	ev.Payload = &event.Event_Custom{Custom: &event.Custom{Name: name, Properties: &structpb.Struct{Fields: f}}}
	return ev
}

// purchase buys a gem pack at a store price point in the storefront currency
// of the player's country; the gems follow, and a share of purchases is
// refunded by the store minutes to hours later.
func (g *Generator) purchase(s *session) *event.Event {
	tier := pickCum(g.rng, tierCum)
	cur := s.country.currency
	price := prices[cur][tier]
	tx := storeTransactionID(g.rng, s.platform.store)
	sku := s.game.skus[tier]
	s.pending = append(s.pending, followUp{kind: fuEarn, a: "gems", b: "purchase", n: tierGems[tier]})
	if g.rng.Float64() < g.cfg.RefundShare {
		g.tasks.push(&task{
			due: g.now + 5*minute + g.rng.Int64N(3*hour),
			r: &refund{game: s.game, playerID: s.playerID, tx: tx, sku: sku, currency: cur,
				platform: s.platform.name, country: s.country.code, amount: price},
		})
	}
	ev := g.envelope(s, event.TypePurchase)
	ev.Payload = &event.Event_Purchase{Purchase: &event.Purchase{
		Sku: sku, Price: price, Currency: cur, Store: s.platform.store, StoreTransactionId: tx,
	}}
	return ev
}

var tierCum = func() []float64 {
	var cum []float64
	s := 0.0
	for _, w := range tierWeights {
		s += w
		cum = append(cum, s)
	}
	return cum
}()

// refundEvent is sent by the store's server: no session, no seq, no app
// version.
func (g *Generator) refundEvent(r *refund) *event.Event {
	return &event.Event{
		SchemaVersion: event.SchemaVersion,
		EventId:       uuid(g.rng),
		EventType:     event.TypeRefund,
		GameId:        r.game.ID,
		PlayerId:      r.playerID,
		ClientTime:    timestamp(g.now),
		Platform:      r.platform,
		Country:       r.country,
		Payload: &event.Event_Refund{Refund: &event.Refund{
			StoreTransactionId: r.tx, Sku: r.sku, Amount: r.amount, Currency: r.currency,
		}},
	}
}

// storeTransactionID imitates each store's receipt id format.
func storeTransactionID(r *rand.Rand, store string) string {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	switch store {
	case "app_store":
		return "2000000" + digits(9)
	case "google_play":
		return "GPA." + digits(4) + "-" + digits(4) + "-" + digits(4) + "-" + digits(5)
	case "steam":
		return strconv.FormatUint(r.Uint64()>>2, 10)
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("pi_000000000000000000000000")
	for i := 3; i < len(b); i++ {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}
