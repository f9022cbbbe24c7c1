package event

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// errBail means the fast decoder met something it does not handle exactly
// like protojson; the caller decodes the event with protojson instead.
var errBail = errors.New("fast JSON path: fall back to protojson")

// decodeJSONFast decodes the common shape of an event — objects of known
// fields with plain strings, integers, numbers and RFC 3339 timestamps —
// about five times faster than protojson. On anything else (escapes, null,
// numbers written as strings, custom properties, duplicate or unknown keys,
// malformed input) it returns errBail and the event is decoded by protojson,
// which thus stays the reference for every error and every unusual form.
// FuzzFastJSONMatchesProtojson checks that whenever this path succeeds,
// protojson gives an equal message.
func decodeJSONFast(b []byte, e *Event) error {
	d := fastDec{b: b}
	if err := d.object(func(key []byte) error { return d.envelopeField(key, e) }); err != nil {
		return err
	}
	if d.skipSpace(); d.i != len(d.b) {
		return errBail
	}
	return nil
}

type fastDec struct {
	b    []byte
	i    int
	seen uint64 // envelope fields set, by bit
}

func (d *fastDec) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads {"key": value, ...}, calling field for each key with d
// positioned at the value.
func (d *fastDec) object(field func(key []byte) error) error {
	d.skipSpace()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return errBail
	}
	d.i++
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	var keys [24][]byte // keys of this object so far: a repeat bails
	n := 0
	for {
		d.skipSpace()
		key, err := d.str()
		if err != nil {
			return err
		}
		for _, k := range keys[:n] {
			if bytes.Equal(k, key) {
				return errBail
			}
		}
		if n == len(keys) {
			return errBail
		}
		keys[n] = key
		n++
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return errBail
		}
		d.i++
		d.skipSpace()
		if err := field(key); err != nil {
			return err
		}
		d.skipSpace()
		if d.i >= len(d.b) {
			return errBail
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errBail
		}
	}
}

// str reads a string without escapes or control characters, valid UTF-8.
func (d *fastDec) str() ([]byte, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, errBail
	}
	start := d.i + 1
	end := bytes.IndexByte(d.b[start:], '"')
	if end < 0 {
		return nil, errBail
	}
	s := d.b[start : start+end]
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return nil, errBail
		}
	}
	if !utf8.Valid(s) {
		return nil, errBail
	}
	d.i = start + end + 1
	return s, nil
}

func (d *fastDec) string() (string, error) {
	s, err := d.str()
	return string(s), err
}

// number returns the literal of a JSON number.
func (d *fastDec) number() ([]byte, error) {
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return nil, errBail
	}
	return d.b[start:d.i], nil
}

// integer reads a plain JSON integer (no fraction or exponent) in bits, or,
// for 64-bit fields, the same digits quoted (the form protojson writes them
// in).
func (d *fastDec) integer(bits int, signed bool) (int64, uint64, error) {
	var lit []byte
	var err error
	if bits == 64 && d.i < len(d.b) && d.b[d.i] == '"' {
		lit, err = d.str()
	} else {
		lit, err = d.number()
	}
	if err != nil || len(lit) == 0 {
		return 0, 0, errBail
	}
	for j, c := range lit {
		if !(c >= '0' && c <= '9') && !(j == 0 && c == '-' && signed) {
			return 0, 0, errBail
		}
	}
	if len(lit) > 1 && lit[0] == '0' || len(lit) > 2 && lit[0] == '-' && lit[1] == '0' {
		return 0, 0, errBail // leading zeros: not JSON
	}
	if signed {
		v, err := strconv.ParseInt(string(lit), 10, bits)
		if err != nil {
			return 0, 0, errBail
		}
		return v, 0, nil
	}
	v, err := strconv.ParseUint(string(lit), 10, bits)
	if err != nil {
		return 0, 0, errBail
	}
	return 0, v, nil
}

func (d *fastDec) int32() (int32, error) {
	v, _, err := d.integer(32, true)
	return int32(v), err
}

func (d *fastDec) int64() (int64, error) {
	v, _, err := d.integer(64, true)
	return v, err
}

func (d *fastDec) uint(bits int) (uint64, error) {
	_, v, err := d.integer(bits, false)
	return v, err
}

// float reads a JSON number as a double.
func (d *fastDec) float() (float64, error) {
	lit, err := d.number()
	if err != nil {
		return 0, err
	}
	if !validJSONNumber(lit) {
		return 0, errBail
	}
	v, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, errBail
	}
	return v, nil
}

// validJSONNumber checks the JSON number grammar.
func validJSONNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

// timestamp reads the RFC 3339 form protojson writes and accepts:
// YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM).
func (d *fastDec) timestamp() (*timestamppb.Timestamp, error) {
	s, err := d.str()
	if err != nil {
		return nil, err
	}
	if !rfc3339Shape(s) {
		return nil, errBail
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return nil, errBail
	}
	ts := timestamppb.New(t)
	if ts.CheckValid() != nil {
		return nil, errBail
	}
	return ts, nil
}

func rfc3339Shape(s []byte) bool {
	digits := func(b []byte) bool {
		for _, c := range b {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if len(s) < 20 || !digits(s[0:4]) || s[4] != '-' || !digits(s[5:7]) || s[7] != '-' || !digits(s[8:10]) ||
		s[10] != 'T' || !digits(s[11:13]) || s[13] != ':' || !digits(s[14:16]) || s[16] != ':' || !digits(s[17:19]) {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && digits(rest[1:3]) && rest[3] == ':' && digits(rest[4:6]):
		return true
	}
	return false
}

// once marks envelope field bit as seen; a second time bails (protojson
// refuses duplicate fields).
func (d *fastDec) once(bit uint) error {
	if d.seen&(1<<bit) != 0 {
		return errBail
	}
	d.seen |= 1 << bit
	return nil
}

const payloadBit = 63 // the oneof: at most one payload field

func (d *fastDec) envelopeField(key []byte, e *Event) (err error) {
	switch string(key) {
	case "schema_version", "schemaVersion":
		if err = d.once(1); err == nil {
			var v uint64
			v, err = d.uint(32)
			e.SchemaVersion = uint32(v)
		}
	case "event_id", "eventId":
		if err = d.once(2); err == nil {
			e.EventId, err = d.string()
		}
	case "event_type", "eventType":
		if err = d.once(3); err == nil {
			e.EventType, err = d.string()
		}
	case "game_id", "gameId":
		if err = d.once(4); err == nil {
			e.GameId, err = d.string()
		}
	case "player_id", "playerId":
		if err = d.once(5); err == nil {
			e.PlayerId, err = d.string()
		}
	case "session_id", "sessionId":
		if err = d.once(6); err == nil {
			e.SessionId, err = d.string()
		}
	case "seq":
		if err = d.once(7); err == nil {
			e.Seq, err = d.uint(64)
		}
	case "client_time", "clientTime":
		if err = d.once(8); err == nil {
			e.ClientTime, err = d.timestamp()
		}
	case "received_at", "receivedAt":
		if err = d.once(9); err == nil {
			e.ReceivedAt, err = d.timestamp()
		}
	case "platform":
		if err = d.once(10); err == nil {
			e.Platform, err = d.string()
		}
	case "app_version", "appVersion":
		if err = d.once(11); err == nil {
			e.AppVersion, err = d.string()
		}
	case "app_build", "appBuild":
		if err = d.once(12); err == nil {
			e.AppBuild, err = d.string()
		}
	case "country":
		if err = d.once(13); err == nil {
			e.Country, err = d.string()
		}
	case "device":
		if err = d.once(14); err == nil {
			dev := &Device{}
			e.Device = dev
			err = d.object(func(k []byte) error {
				switch string(k) {
				case "model":
					return d.setString(&dev.Model)
				case "os_version":
					return d.setString(&dev.OsVersion)
				case "locale":
					return d.setString(&dev.Locale)
				}
				return errBail
			})
		}
	default:
		return d.payloadField(key, e)
	}
	return err
}

// setString reads a string into *dst. Nested objects accept only the
// .proto field names (not the lowerCamelCase aliases protojson also takes),
// so object's repeated-key check is enough to refuse duplicates.
func (d *fastDec) setString(dst *string) error {
	v, err := d.string()
	*dst = v
	return err
}

func (d *fastDec) payloadField(key []byte, e *Event) error {
	if err := d.once(payloadBit); err != nil {
		return err
	}
	switch string(key) {
	case "session_start", "sessionStart":
		p := &SessionStart{}
		e.Payload = &Event_SessionStart{SessionStart: p}
		return d.object(func(k []byte) error {
			if string(k) == "entry_point" {
				return d.setString(&p.EntryPoint)
			}
			return errBail
		})
	case "session_end", "sessionEnd":
		p := &SessionEnd{}
		e.Payload = &Event_SessionEnd{SessionEnd: p}
		return d.object(func(k []byte) (err error) {
			if string(k) == "duration_ms" {
				p.DurationMs, err = d.int64()
				return err
			}
			return errBail
		})
	case "login":
		p := &Login{}
		e.Payload = &Event_Login{Login: p}
		return d.object(func(k []byte) error {
			if string(k) == "method" {
				return d.setString(&p.Method)
			}
			return errBail
		})
	case "purchase":
		p := &Purchase{}
		e.Payload = &Event_Purchase{Purchase: p}
		return d.object(func(k []byte) (err error) {
			switch string(k) {
			case "sku":
				return d.setString(&p.Sku)
			case "price":
				p.Price, err = d.float()
				return err
			case "currency":
				return d.setString(&p.Currency)
			case "store":
				return d.setString(&p.Store)
			case "store_transaction_id":
				return d.setString(&p.StoreTransactionId)
			}
			return errBail
		})
	case "refund":
		p := &Refund{}
		e.Payload = &Event_Refund{Refund: p}
		return d.object(func(k []byte) (err error) {
			switch string(k) {
			case "store_transaction_id":
				return d.setString(&p.StoreTransactionId)
			case "sku":
				return d.setString(&p.Sku)
			case "amount":
				p.Amount, err = d.float()
				return err
			case "currency":
				return d.setString(&p.Currency)
			}
			return errBail
		})
	case "level_start", "levelStart", "level_complete", "levelComplete", "level_fail", "levelFail":
		p := &Level{}
		switch string(key) {
		case "level_start", "levelStart":
			e.Payload = &Event_LevelStart{LevelStart: p}
		case "level_complete", "levelComplete":
			e.Payload = &Event_LevelComplete{LevelComplete: p}
		default:
			e.Payload = &Event_LevelFail{LevelFail: p}
		}
		return d.object(func(k []byte) (err error) {
			switch string(k) {
			case "level":
				p.Level, err = d.int32()
			case "duration_ms":
				p.DurationMs, err = d.int64()
			case "score":
				p.Score, err = d.int64()
			default:
				return errBail
			}
			return err
		})
	case "ad_impression", "adImpression":
		p := &AdImpression{}
		e.Payload = &Event_AdImpression{AdImpression: p}
		return d.object(func(k []byte) (err error) {
			switch string(k) {
			case "network":
				return d.setString(&p.Network)
			case "placement":
				return d.setString(&p.Placement)
			case "revenue":
				p.Revenue, err = d.float()
				return err
			case "currency":
				return d.setString(&p.Currency)
			}
			return errBail
		})
	case "currency_earn", "currencyEarn", "currency_spend", "currencySpend":
		p := &VirtualCurrency{}
		if string(key) == "currency_earn" || string(key) == "currencyEarn" {
			e.Payload = &Event_CurrencyEarn{CurrencyEarn: p}
		} else {
			e.Payload = &Event_CurrencySpend{CurrencySpend: p}
		}
		return d.object(func(k []byte) (err error) {
			switch string(k) {
			case "currency":
				return d.setString(&p.Currency)
			case "amount":
				p.Amount, err = d.int64()
				return err
			case "reason":
				return d.setString(&p.Reason)
			case "item":
				return d.setString(&p.Item)
			}
			return errBail
		})
	}
	return errBail // custom (free-form properties), unknown keys: protojson decides
}
