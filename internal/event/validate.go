package event

import (
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
)

// Rejection codes. Each rejection carries one of these and a sentence that
// names the field or limit at fault.
const (
	CodeMalformed          = "malformed"           // not decodable as JSON / Protobuf
	CodeNotObject          = "not_an_object"       // a JSON batch element that is not an object
	CodeTooLarge           = "event_too_large"     // one event over the event size limit
	CodeTooDeep            = "too_deep"            // JSON nesting over the depth limit
	CodeMissingField       = "missing_field"       // a required field is empty
	CodeUnknownType        = "unknown_event_type"  // event_type not in this schema version
	CodePayloadMismatch    = "payload_mismatch"    // the payload set is not the one event_type names
	CodeInvalidValue       = "invalid_value"       // a value outside its allowed range or form
	CodeUnsupportedVersion = "unsupported_version" // schema_version newer than this build
	CodeClockSkew          = "clock_skew"          // client_time outside the accepted window
)

// Rejection says why one event was refused.
type Rejection struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (r *Rejection) Error() string { return r.Reason }

func reject(code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Rules are the checks Validate applies beyond the schema itself.
type Rules struct {
	// Now is the reference time for the clock-skew check; zero skips it.
	Now time.Time
	// MaxPast and MaxFuture bound client_time relative to Now.
	MaxPast, MaxFuture time.Duration
	// MaxDepth bounds the nesting of custom properties (0: no bound).
	MaxDepth int
}

const maxIDLen = 128

// MaxAmount bounds a money amount of one event (purchase.price,
// refund.amount, ad_impression.revenue), in units of its currency. No
// in-game payment comes near a billion units of any currency, and below it
// every amount converts to USD within the processor's ±2^53 micro-USD for
// any rate up to 9 USD per unit (the built-in table's largest is 1.27), so
// the gateway refuses what the processor would dead-letter.
const MaxAmount = 1e9

// Validate checks e against the schema's rules and returns nil or a
// *Rejection. It reads e only.
func Validate(e *Event, r Rules) *Rejection {
	if v := e.GetSchemaVersion(); v > SchemaVersion {
		return reject(CodeUnsupportedVersion, "schema_version %d is not supported (newest: %d)", v, SchemaVersion)
	}
	if e.GetEventId() == "" {
		return reject(CodeMissingField, "missing required field: event_id")
	}
	if len(e.GetEventId()) > maxIDLen {
		return reject(CodeInvalidValue, "event_id is longer than %d bytes", maxIDLen)
	}
	if r := checkID("event_id", e.GetEventId()); r != nil {
		return r
	}
	if e.GetEventType() == "" {
		return reject(CodeMissingField, "missing required field: event_type")
	}
	ti, ok := types[e.GetEventType()]
	if !ok {
		return reject(CodeUnknownType, "unknown event_type %q", truncate(e.GetEventType(), 64))
	}
	if e.GetPlayerId() == "" {
		return reject(CodeMissingField, "missing required field: player_id")
	}
	if len(e.GetPlayerId()) > maxIDLen {
		return reject(CodeInvalidValue, "player_id is longer than %d bytes", maxIDLen)
	}
	if r := checkID("player_id", e.GetPlayerId()); r != nil {
		return r
	}
	if ti.sessionRequired {
		if e.GetSessionId() == "" {
			return reject(CodeMissingField, "missing required field: session_id")
		}
		if e.GetSeq() == 0 {
			return reject(CodeMissingField, "missing required field: seq (per-session sequence numbers start at 1)")
		}
	}
	if len(e.GetSessionId()) > maxIDLen {
		return reject(CodeInvalidValue, "session_id is longer than %d bytes", maxIDLen)
	}
	if e.GetSessionId() != "" {
		if r := checkID("session_id", e.GetSessionId()); r != nil {
			return r
		}
	}
	if e.GetClientTime() == nil {
		return reject(CodeMissingField, "missing required field: client_time")
	}
	if err := e.GetClientTime().CheckValid(); err != nil {
		return reject(CodeInvalidValue, "client_time is not a valid timestamp")
	}
	if !r.Now.IsZero() {
		ct := e.GetClientTime().AsTime()
		if ct.Before(r.Now.Add(-r.MaxPast)) {
			return reject(CodeClockSkew, "client_time %s is more than %s in the past", ct.Format(time.RFC3339), r.MaxPast)
		}
		if ct.After(r.Now.Add(r.MaxFuture)) {
			return reject(CodeClockSkew, "client_time %s is more than %s in the future", ct.Format(time.RFC3339), r.MaxFuture)
		}
	}
	if c := e.GetCountry(); c != "" && !isAlpha(c, 2) {
		return reject(CodeInvalidValue, "country %q is not an ISO 3166-1 alpha-2 code", truncate(c, 16))
	}
	got := PayloadField(e)
	if got == "" {
		if ti.payloadRequired {
			return reject(CodeMissingField, "missing required field: %s (the payload of a %s event)", ti.field, e.GetEventType())
		}
		return nil
	}
	if got != ti.field {
		return reject(CodePayloadMismatch, "event_type %q carries a %s payload; expected %s", e.GetEventType(), got, ti.field)
	}
	return validatePayload(e, r)
}

func validatePayload(e *Event, r Rules) *Rejection {
	switch p := e.GetPayload().(type) {
	case *Event_Purchase:
		x := p.Purchase
		switch {
		case x.GetSku() == "":
			return reject(CodeMissingField, "missing required field: purchase.sku")
		case !positive(x.GetPrice()):
			return reject(CodeInvalidValue, "purchase.price must be a finite number > 0")
		case x.GetPrice() > MaxAmount:
			return tooMuch("purchase.price", x.GetPrice())
		case !isAlpha(x.GetCurrency(), 3):
			return reject(CodeInvalidValue, "purchase.currency %q is not an ISO 4217 code", truncate(x.GetCurrency(), 16))
		case x.GetStoreTransactionId() == "":
			return reject(CodeMissingField, "missing required field: purchase.store_transaction_id")
		}
		return checkID("purchase.store_transaction_id", x.GetStoreTransactionId())
	case *Event_Refund:
		x := p.Refund
		switch {
		case x.GetStoreTransactionId() == "":
			return reject(CodeMissingField, "missing required field: refund.store_transaction_id")
		case x.GetAmount() < 0 || !finite(x.GetAmount()):
			return reject(CodeInvalidValue, "refund.amount must be a finite number >= 0")
		case x.GetAmount() > MaxAmount:
			return tooMuch("refund.amount", x.GetAmount())
		case x.GetCurrency() != "" && !isAlpha(x.GetCurrency(), 3):
			return reject(CodeInvalidValue, "refund.currency %q is not an ISO 4217 code", truncate(x.GetCurrency(), 16))
		}
		return checkID("refund.store_transaction_id", x.GetStoreTransactionId())
	case *Event_LevelStart:
		return validateLevel("level_start", p.LevelStart)
	case *Event_LevelComplete:
		return validateLevel("level_complete", p.LevelComplete)
	case *Event_LevelFail:
		return validateLevel("level_fail", p.LevelFail)
	case *Event_AdImpression:
		x := p.AdImpression
		switch {
		case x.GetNetwork() == "":
			return reject(CodeMissingField, "missing required field: ad_impression.network")
		case x.GetRevenue() < 0 || !finite(x.GetRevenue()):
			return reject(CodeInvalidValue, "ad_impression.revenue must be a finite number >= 0")
		case x.GetRevenue() > MaxAmount:
			return tooMuch("ad_impression.revenue", x.GetRevenue())
		case x.GetCurrency() != "" && !isAlpha(x.GetCurrency(), 3):
			return reject(CodeInvalidValue, "ad_impression.currency %q is not an ISO 4217 code", truncate(x.GetCurrency(), 16))
		}
	case *Event_CurrencyEarn:
		return validateCurrency("currency_earn", p.CurrencyEarn)
	case *Event_CurrencySpend:
		return validateCurrency("currency_spend", p.CurrencySpend)
	case *Event_Custom:
		if p.Custom.GetName() == "" {
			return reject(CodeMissingField, "missing required field: custom.name")
		}
		if r.MaxDepth > 0 && structDepth(p.Custom.GetProperties()) > r.MaxDepth {
			return reject(CodeTooDeep, "custom.properties nest deeper than %d levels", r.MaxDepth)
		}
	case *Event_SessionEnd:
		if p.SessionEnd.GetDurationMs() < 0 {
			return reject(CodeInvalidValue, "session_end.duration_ms must be >= 0")
		}
	}
	return nil
}

func validateLevel(name string, x *Level) *Rejection {
	switch {
	case x.GetLevel() < 0:
		return reject(CodeInvalidValue, "%s.level must be >= 0", name)
	case x.GetDurationMs() < 0:
		return reject(CodeInvalidValue, "%s.duration_ms must be >= 0", name)
	}
	return nil
}

func validateCurrency(name string, x *VirtualCurrency) *Rejection {
	switch {
	case x.GetCurrency() == "":
		return reject(CodeMissingField, "missing required field: %s.currency", name)
	case x.GetAmount() <= 0:
		return reject(CodeInvalidValue, "%s.amount must be > 0", name)
	}
	return nil
}

// structDepth counts the nesting levels of a Struct (a flat object is 1).
func structDepth(s *structpb.Struct) int {
	if s == nil {
		return 0
	}
	max := 0
	for _, v := range s.GetFields() {
		if d := valueDepth(v); d > max {
			max = d
		}
	}
	return 1 + max
}

func valueDepth(v *structpb.Value) int {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		return structDepth(k.StructValue)
	case *structpb.Value_ListValue:
		max := 0
		for _, x := range k.ListValue.GetValues() {
			if d := valueDepth(x); d > max {
				max = d
			}
		}
		return 1 + max
	}
	return 0
}

func tooMuch(field string, v float64) *Rejection {
	return reject(CodeInvalidValue, "%s %g is above the limit of %g units of any currency", field, v, float64(MaxAmount))
}

// checkID refuses an id that is blank (only white space), or holds a
// control character (C0, DEL, C1) or a bidirectional formatting character
// (which can make one id display as another in a log, a dashboard or the
// warehouse). Ids are keys downstream: partition keys, dedup keys, table
// columns. The usual id, printable ASCII without spaces, takes one pass
// over its bytes.
func checkID(field, s string) *Rejection {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return nil
	}
	blank := true
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return reject(CodeInvalidValue, "%s contains a control character (U+%04X)", field, r)
		case isBidiControl(r):
			return reject(CodeInvalidValue, "%s contains a bidirectional formatting character (U+%04X)", field, r)
		case !unicode.IsSpace(r):
			blank = false
		}
	}
	if blank {
		return reject(CodeInvalidValue, "%s is blank", field)
	}
	return nil
}

// isBidiControl reports the Unicode bidirectional formatting characters:
// ALM, LRM, RLM, the embeddings and overrides LRE..RLO with PDF, and the
// isolates LRI..PDI.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

func finite(f float64) bool   { return !math.IsNaN(f) && !math.IsInf(f, 0) }
func positive(f float64) bool { return finite(f) && f > 0 }

func isAlpha(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
