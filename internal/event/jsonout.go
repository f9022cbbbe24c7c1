package event

import (
	"math"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// appendEventJSON appends the JSON form of e exactly as
// protojson.MarshalOptions{UseProtoNames: true} writes it, minus protojson's
// deliberately random whitespace: the same fields in the same (descriptor)
// order, the same escapes and the same number and timestamp formats. It is
// over ten times faster than protojson (BenchmarkAppendJSON) and does not
// allocate, because it reads the generated struct fields directly instead of
// going through protoreflect.
//
// It returns ok=false, with b possibly extended, on anything it does not
// handle exactly like protojson: a custom payload with properties
// (google.protobuf.Struct), a string that is not valid UTF-8, or a timestamp
// out of protojson's range. The caller then asks protojson, which thus
// stays the reference for every error and every unusual form.
// FuzzAppendJSONMatchesProtojson checks the two against each other, and
// TestAppendJSONCoversEverySchemaField fails when the schema grows a field
// this encoder does not write.
func appendEventJSON(b []byte, e *Event) ([]byte, bool) {
	if e == nil {
		return append(b, '{', '}'), true
	}
	var ok bool
	c := byte('{') // what goes before the next member: '{' for the first, then ','
	if e.SchemaVersion != 0 {
		b = append(b, c)
		b = append(b, `"schema_version":`...)
		b = strconv.AppendUint(b, uint64(e.SchemaVersion), 10)
		c = ','
	}
	if b, c, ok = appendStringField(b, c, `"event_id":`, e.EventId); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"event_type":`, e.EventType); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"game_id":`, e.GameId); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"player_id":`, e.PlayerId); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"session_id":`, e.SessionId); !ok {
		return b, false
	}
	if e.Seq != 0 {
		b = append(b, c)
		b = append(b, `"seq":"`...)
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, '"')
		c = ','
	}
	if e.ClientTime != nil {
		b = append(b, c)
		b = append(b, `"client_time":`...)
		if b, ok = appendTimestamp(b, e.ClientTime); !ok {
			return b, false
		}
		c = ','
	}
	if e.ReceivedAt != nil {
		b = append(b, c)
		b = append(b, `"received_at":`...)
		if b, ok = appendTimestamp(b, e.ReceivedAt); !ok {
			return b, false
		}
		c = ','
	}
	if b, c, ok = appendStringField(b, c, `"platform":`, e.Platform); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"app_version":`, e.AppVersion); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"app_build":`, e.AppBuild); !ok {
		return b, false
	}
	if b, c, ok = appendStringField(b, c, `"country":`, e.Country); !ok {
		return b, false
	}
	if e.Device != nil {
		b = append(b, c)
		b = append(b, `"device":`...)
		if b, ok = appendDevice(b, e.Device); !ok {
			return b, false
		}
		c = ','
	}
	// The oneof member that is set is written even when its message is empty
	// or nil ({}); a nil wrapper (say (*Event_Login)(nil)) counts as unset.
	ok = true
	switch p := e.Payload.(type) {
	case *Event_SessionStart:
		if p != nil {
			b = append(b, c)
			b = append(b, `"session_start":`...)
			b, ok = appendSessionStart(b, p.SessionStart)
			c = ','
		}
	case *Event_SessionEnd:
		if p != nil {
			b = append(b, c)
			b = append(b, `"session_end":`...)
			b, ok = appendSessionEnd(b, p.SessionEnd), true
			c = ','
		}
	case *Event_Login:
		if p != nil {
			b = append(b, c)
			b = append(b, `"login":`...)
			b, ok = appendLogin(b, p.Login)
			c = ','
		}
	case *Event_Purchase:
		if p != nil {
			b = append(b, c)
			b = append(b, `"purchase":`...)
			b, ok = appendPurchase(b, p.Purchase)
			c = ','
		}
	case *Event_Refund:
		if p != nil {
			b = append(b, c)
			b = append(b, `"refund":`...)
			b, ok = appendRefund(b, p.Refund)
			c = ','
		}
	case *Event_LevelStart:
		if p != nil {
			b = append(b, c)
			b = append(b, `"level_start":`...)
			b, ok = appendLevel(b, p.LevelStart), true
			c = ','
		}
	case *Event_LevelComplete:
		if p != nil {
			b = append(b, c)
			b = append(b, `"level_complete":`...)
			b, ok = appendLevel(b, p.LevelComplete), true
			c = ','
		}
	case *Event_LevelFail:
		if p != nil {
			b = append(b, c)
			b = append(b, `"level_fail":`...)
			b, ok = appendLevel(b, p.LevelFail), true
			c = ','
		}
	case *Event_AdImpression:
		if p != nil {
			b = append(b, c)
			b = append(b, `"ad_impression":`...)
			b, ok = appendAdImpression(b, p.AdImpression)
			c = ','
		}
	case *Event_CurrencyEarn:
		if p != nil {
			b = append(b, c)
			b = append(b, `"currency_earn":`...)
			b, ok = appendVirtualCurrency(b, p.CurrencyEarn)
			c = ','
		}
	case *Event_CurrencySpend:
		if p != nil {
			b = append(b, c)
			b = append(b, `"currency_spend":`...)
			b, ok = appendVirtualCurrency(b, p.CurrencySpend)
			c = ','
		}
	case *Event_Custom:
		if p != nil {
			b = append(b, c)
			b = append(b, `"custom":`...)
			b, ok = appendCustom(b, p.Custom)
			c = ','
		}
	case nil:
	default:
		return b, false // a payload type this encoder does not know
	}
	if !ok {
		return b, false
	}
	return closeObject(b, c), true
}

// closeObject ends an object whose separator state is c.
func closeObject(b []byte, c byte) []byte {
	if c == '{' {
		return append(b, '{', '}')
	}
	return append(b, '}')
}

func appendDevice(b []byte, m *Device) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"model":`, m.Model); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"os_version":`, m.OsVersion); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"locale":`, m.Locale); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

func appendSessionStart(b []byte, m *SessionStart) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"entry_point":`, m.EntryPoint); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

func appendSessionEnd(b []byte, m *SessionEnd) []byte {
	c := byte('{')
	if m != nil {
		b, c = appendInt64Field(b, c, `"duration_ms":`, m.DurationMs)
	}
	return closeObject(b, c)
}

func appendLogin(b []byte, m *Login) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"method":`, m.Method); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

func appendPurchase(b []byte, m *Purchase) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"sku":`, m.Sku); !ok {
			return b, false
		}
		b, c = appendDoubleField(b, c, `"price":`, m.Price)
		if b, c, ok = appendStringField(b, c, `"currency":`, m.Currency); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"store":`, m.Store); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"store_transaction_id":`, m.StoreTransactionId); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

func appendRefund(b []byte, m *Refund) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"store_transaction_id":`, m.StoreTransactionId); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"sku":`, m.Sku); !ok {
			return b, false
		}
		b, c = appendDoubleField(b, c, `"amount":`, m.Amount)
		if b, c, ok = appendStringField(b, c, `"currency":`, m.Currency); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

func appendLevel(b []byte, m *Level) []byte {
	c := byte('{')
	if m != nil {
		if m.Level != 0 {
			b = append(b, c)
			b = append(b, `"level":`...)
			b = strconv.AppendInt(b, int64(m.Level), 10)
			c = ','
		}
		b, c = appendInt64Field(b, c, `"duration_ms":`, m.DurationMs)
		b, c = appendInt64Field(b, c, `"score":`, m.Score)
	}
	return closeObject(b, c)
}

func appendAdImpression(b []byte, m *AdImpression) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"network":`, m.Network); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"placement":`, m.Placement); !ok {
			return b, false
		}
		b, c = appendDoubleField(b, c, `"revenue":`, m.Revenue)
		if b, c, ok = appendStringField(b, c, `"currency":`, m.Currency); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

func appendVirtualCurrency(b []byte, m *VirtualCurrency) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if b, c, ok = appendStringField(b, c, `"currency":`, m.Currency); !ok {
			return b, false
		}
		b, c = appendInt64Field(b, c, `"amount":`, m.Amount)
		if b, c, ok = appendStringField(b, c, `"reason":`, m.Reason); !ok {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"item":`, m.Item); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

// appendCustom writes a custom payload without properties; properties (a
// google.protobuf.Struct, with its own rules for NaN, unset values and key
// order) are left to protojson.
func appendCustom(b []byte, m *Custom) ([]byte, bool) {
	c, ok := byte('{'), true
	if m != nil {
		if m.Properties != nil {
			return b, false
		}
		if b, c, ok = appendStringField(b, c, `"name":`, m.Name); !ok {
			return b, false
		}
	}
	return closeObject(b, c), true
}

// appendStringField writes a proto3 string field unless it is empty.
func appendStringField(b []byte, c byte, key, s string) ([]byte, byte, bool) {
	if s == "" {
		return b, c, true
	}
	b = append(b, c)
	b = append(b, key...)
	b, ok := appendJSONString(b, s)
	return b, ',', ok
}

// appendInt64Field writes a proto3 int64 field unless it is zero, as a JSON
// string the way protojson writes every 64-bit integer.
func appendInt64Field(b []byte, c byte, key string, v int64) ([]byte, byte) {
	if v == 0 {
		return b, c
	}
	b = append(b, c)
	b = append(b, key...)
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"'), ','
}

// appendDoubleField writes a proto3 double field unless it is +0. Like
// protojson it writes -0 (proto3 presence is by bit pattern) and NaN.
func appendDoubleField(b []byte, c byte, key string, v float64) ([]byte, byte) {
	if math.Float64bits(v) == 0 {
		return b, c
	}
	b = append(b, c)
	b = append(b, key...)
	return appendJSONDouble(b, v), ','
}

// appendJSONDouble formats v as protojson does (its internal/encoding/json
// appendFloat, bitSize 64): the special values as the strings "NaN",
// "Infinity" and "-Infinity"; otherwise the shortest representation that
// round-trips, in exponent form below 1e-6 and from 1e21 up, with a
// two-digit negative exponent shortened to one digit ("1e-7", not "1e-07").
func appendJSONDouble(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, +1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	fmt := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, v, fmt, -1, 64)
	if fmt == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// jsonSafe marks the ASCII bytes protojson copies into a string unescaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString writes s as a JSON string with protojson's escapes: '"'
// and '\\' with a backslash, \b \f \n \r \t by name, other control characters
// as \u00XX (lower-case hex), everything else (DEL, U+2028, '<', ...) as is.
// It returns false if s is not valid UTF-8, which protojson rejects.
func appendJSONString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	start := 0 // s[start:i] is still to be copied
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				const hex = "0123456789abcdef"
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return b, false
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"'), true
}

// The range of google.protobuf.Timestamp that protojson accepts:
// 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

// appendTimestamp writes t as protojson does: RFC 3339 in UTC ("Z") with 0,
// 3, 6 or 9 fractional digits. It returns false for seconds or nanos out of
// protojson's range (where protojson fails).
func appendTimestamp(b []byte, t *timestamppb.Timestamp) ([]byte, bool) {
	secs, nanos := t.GetSeconds(), t.GetNanos()
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > 999_999_999 {
		return b, false
	}
	// Days since 1970-01-01 and the second of that day; secs may be negative.
	days := secs / 86400
	sod := secs % 86400
	if sod < 0 {
		days--
		sod += 86400
	}
	y, m, d := civilDate(days)
	b = append(b, '"')
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(sod/3600))
	b = append(b, ':')
	b = append2(b, int(sod/60%60))
	b = append(b, ':')
	b = append2(b, int(sod%60))
	if nanos != 0 {
		digits, v := 9, int(nanos)
		switch {
		case v%1_000_000 == 0:
			digits, v = 3, v/1_000_000
		case v%1_000 == 0:
			digits, v = 6, v/1_000
		}
		b = append(b, '.')
		var buf [9]byte
		for i := digits - 1; i >= 0; i-- {
			buf[i] = byte('0' + v%10)
			v /= 10
		}
		b = append(b, buf[:digits]...)
	}
	return append(b, 'Z', '"'), true
}

// civilDate converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civilDate(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], March first
	d := doy - (153*mp+2)/5 + 1                            // [1, 31]
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
