package jobs

import (
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// CodeUnknownCurrency is the dead-letter code of an event whose currency is
// not in the FX rate table (rule 4). The other codes are event.Code*.
const CodeUnknownCurrency = "unknown_currency"

// DeadLetter says why a record goes to the dead-letter topic: a code (one of
// event.Code* or CodeUnknownCurrency) and a sentence naming the field at
// fault.
type DeadLetter struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (d *DeadLetter) Error() string { return d.Code + ": " + d.Reason }

// Validator is the processor's validation (rule 1, and the currency check of
// rule 4). It is safe for concurrent use.
type Validator struct {
	rates     *Rates
	maxFuture time.Duration
}

// NewValidator returns a Validator that knows the currencies of rates (nil:
// DefaultRates()) and allows client_time up to DefaultMaxFuture after
// received_at. A Stage's uses its Config's Rates and MaxFuture.
func NewValidator(rates *Rates) *Validator {
	return newValidator(rates, DefaultMaxFuture)
}

func newValidator(rates *Rates, maxFuture time.Duration) *Validator {
	if rates == nil {
		rates = DefaultRates()
	}
	return &Validator{rates: rates, maxFuture: maxFuture}
}

// Decode decodes a raw record value in encoding enc (record.RawEncoding of
// its headers) and checks it (see Check). It returns the event or why it is
// a dead letter.
func (v *Validator) Decode(value []byte, enc record.Encoding) (*event.Event, *DeadLetter) {
	e, dl := decodeRaw(value, enc)
	if dl != nil {
		return nil, dl
	}
	if dl := v.Check(e); dl != nil {
		return nil, dl
	}
	return e, nil
}

// decodeRaw decodes a raw record value: binary Protobuf, or JSON with the
// event package's JSON event decoder (the gateway's, without its size and
// depth bounds). A value that does not decode, in either encoding, and a
// record whose content-type names neither, is malformed.
func decodeRaw(value []byte, enc record.Encoding) (*event.Event, *DeadLetter) {
	switch enc {
	case record.EncodingProtobuf:
		e, err := event.Unmarshal(value)
		if err != nil {
			return nil, &DeadLetter{Code: event.CodeMalformed, Reason: "record value is not a Protobuf Event: " + protoErrText(err)}
		}
		return e, nil
	case record.EncodingJSON:
		it := event.DecodeJSONEvent(value, event.Limits{})
		if it.Rejection != nil {
			return nil, &DeadLetter{Code: event.CodeMalformed, Reason: "record value is not a JSON Event: " + strings.ReplaceAll(it.Rejection.Reason, "\u00a0", " ")}
		}
		return it.Event, nil
	}
	return nil, &DeadLetter{Code: event.CodeMalformed, Reason: "record has a " + record.HeaderContentType + " header that is neither " +
		record.ContentTypeProtobuf + " nor " + record.ContentTypeJSON}
}

// Check applies, in this order: event.Validate with zero Rules (no clock-skew
// or depth check; the gateway's rules, ranges and id characters included,
// so what the gateway accepts fails here only for the checks below); game_id set; received_at set and valid; the currency of a
// purchase, refund or ad impression in the rate table (empty = USD); the
// converted amount within ±2^53 micro-USD; client_time (truncated to the
// millisecond) not after received_at + MaxFuture. It returns nil for a valid
// event.
func (v *Validator) Check(e *event.Event) *DeadLetter {
	_, dl := v.check(e)
	return dl
}

// check is Check that also returns the event's signed revenue in micro-USD
// (see revenue).
func (v *Validator) check(e *event.Event) (int64, *DeadLetter) {
	if r := event.Validate(e, event.Rules{}); r != nil {
		return 0, &DeadLetter{Code: r.Code, Reason: r.Reason}
	}
	if e.GetGameId() == "" {
		return 0, &DeadLetter{Code: event.CodeMissingField, Reason: "missing required field: game_id (set by the gateway)"}
	}
	if e.GetReceivedAt() == nil {
		return 0, &DeadLetter{Code: event.CodeMissingField, Reason: "missing required field: received_at (set by the gateway)"}
	}
	if e.GetReceivedAt().CheckValid() != nil {
		return 0, &DeadLetter{Code: event.CodeInvalidValue, Reason: "received_at is not a valid timestamp"}
	}
	var (
		field    string
		amount   float64
		currency string
		sign     int64 = 1
	)
	switch p := e.GetPayload().(type) {
	case *event.Event_Purchase:
		field, amount, currency = "purchase", p.Purchase.GetPrice(), p.Purchase.GetCurrency()
	case *event.Event_Refund:
		field, amount, currency, sign = "refund", p.Refund.GetAmount(), p.Refund.GetCurrency(), -1
	case *event.Event_AdImpression:
		field, amount, currency = "ad_impression", p.AdImpression.GetRevenue(), p.AdImpression.GetCurrency()
	}
	var micros int64
	if field != "" {
		m, known, inRange := v.rates.usdMicros(amount, currency)
		if !known {
			return 0, &DeadLetter{Code: CodeUnknownCurrency, Reason: field + ".currency " + quote(currency) + " is not in the FX rate table"}
		}
		if !inRange {
			return 0, &DeadLetter{Code: event.CodeInvalidValue, Reason: field + " amount converted to USD is out of range (more than 2^53 micro-USD)"}
		}
		micros = sign * m
	}
	ct := e.GetClientTime()
	t := time.UnixMilli(ct.GetSeconds()*1000 + int64(ct.GetNanos())/1_000_000)
	if ra := e.GetReceivedAt().AsTime(); t.After(ra.Add(v.maxFuture)) {
		return 0, &DeadLetter{Code: event.CodeClockSkew, Reason: "client_time " + t.UTC().Format(time.RFC3339Nano) +
			" is more than " + v.maxFuture.String() + " after received_at " + ra.UTC().Format(time.RFC3339Nano)}
	}
	return micros, nil
}

// protoErrText is err's text without the "proto: " prefix, which
// protobuf-go writes with a randomly chosen space (U+0020 or U+00A0) to keep
// callers from matching error strings: dead-letter reasons stay stable.
func protoErrText(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "proto: ")
	s = strings.TrimPrefix(s, "proto:\u00a0")
	return strings.ReplaceAll(s, "\u00a0", " ")
}

func quote(s string) string {
	if len(s) > 16 {
		s = s[:16]
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			c = '?'
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}
