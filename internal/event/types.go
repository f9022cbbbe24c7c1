package event

import (
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// SchemaVersion is the newest schema version this build understands.
const SchemaVersion = 1

// Event types, as written in Event.event_type.
const (
	TypeSessionStart  = "session_start"
	TypeSessionEnd    = "session_end"
	TypeLogin         = "login"
	TypePurchase      = "purchase"
	TypeRefund        = "refund"
	TypeLevelStart    = "level_start"
	TypeLevelComplete = "level_complete"
	TypeLevelFail     = "level_fail"
	TypeAdImpression  = "ad_impression"
	TypeCurrencyEarn  = "currency_earn"
	TypeCurrencySpend = "currency_spend"
	TypeCustom        = "custom"
)

// typeInfo says which payload field an event type uses and whether it must be
// present.
type typeInfo struct {
	field           string // oneof field name in the .proto
	payloadRequired bool
	sessionRequired bool
}

var types = map[string]typeInfo{
	TypeSessionStart:  {field: "session_start", sessionRequired: true},
	TypeSessionEnd:    {field: "session_end", sessionRequired: true},
	TypeLogin:         {field: "login", sessionRequired: true},
	TypePurchase:      {field: "purchase", payloadRequired: true, sessionRequired: true},
	TypeRefund:        {field: "refund", payloadRequired: true}, // often sent by a store server, outside any session
	TypeLevelStart:    {field: "level_start", payloadRequired: true, sessionRequired: true},
	TypeLevelComplete: {field: "level_complete", payloadRequired: true, sessionRequired: true},
	TypeLevelFail:     {field: "level_fail", payloadRequired: true, sessionRequired: true},
	TypeAdImpression:  {field: "ad_impression", payloadRequired: true, sessionRequired: true},
	TypeCurrencyEarn:  {field: "currency_earn", payloadRequired: true, sessionRequired: true},
	TypeCurrencySpend: {field: "currency_spend", payloadRequired: true, sessionRequired: true},
	TypeCustom:        {field: "custom", payloadRequired: true, sessionRequired: true},
}

// Types returns every known event type.
func Types() []string {
	return []string{TypeSessionStart, TypeSessionEnd, TypeLogin, TypePurchase, TypeRefund,
		TypeLevelStart, TypeLevelComplete, TypeLevelFail, TypeAdImpression,
		TypeCurrencyEarn, TypeCurrencySpend, TypeCustom}
}

// KnownType reports whether t is an event type of this schema version.
func KnownType(t string) bool { _, ok := types[t]; return ok }

// PayloadField returns the name of the oneof payload field that is set, or "".
func PayloadField(e *Event) string {
	switch e.GetPayload().(type) {
	case *Event_SessionStart:
		return "session_start"
	case *Event_SessionEnd:
		return "session_end"
	case *Event_Login:
		return "login"
	case *Event_Purchase:
		return "purchase"
	case *Event_Refund:
		return "refund"
	case *Event_LevelStart:
		return "level_start"
	case *Event_LevelComplete:
		return "level_complete"
	case *Event_LevelFail:
		return "level_fail"
	case *Event_AdImpression:
		return "ad_impression"
	case *Event_CurrencyEarn:
		return "currency_earn"
	case *Event_CurrencySpend:
		return "currency_spend"
	case *Event_Custom:
		return "custom"
	}
	return ""
}

// JSON options: field names as written in the .proto, the form clients send.
var (
	jsonOut = protojson.MarshalOptions{UseProtoNames: true}
	jsonIn  = protojson.UnmarshalOptions{}
)

// MarshalJSON encodes e in the gateway's JSON form (see AppendJSON).
func MarshalJSON(e *Event) ([]byte, error) {
	b, err := AppendJSON(make([]byte, 0, jsonSizeHint(e)), e)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// AppendJSON appends the JSON form of e to b: what
// protojson.MarshalOptions{UseProtoNames: true} writes, field for field, with
// the same errors (invalid UTF-8, timestamps out of range, ...). A
// hand-written encoder (jsonout.go) does the common events; protojson does
// the rest. On error it returns b unchanged (protojson would return nil).
func AppendJSON(b []byte, e *Event) ([]byte, error) {
	if out, ok := appendEventJSON(b, e); ok {
		return out, nil
	}
	out, err := jsonOut.MarshalAppend(b, e)
	if err != nil {
		return b, err
	}
	return out, nil
}

// jsonSizeHint guesses the length of e's JSON form, so that MarshalJSON
// allocates once.
func jsonSizeHint(e *Event) int {
	if e == nil {
		return 2
	}
	return 320 + len(e.EventId) + len(e.EventType) + len(e.GameId) + len(e.PlayerId) +
		len(e.SessionId) + len(e.Platform) + len(e.AppVersion) + len(e.AppBuild) + len(e.Country)
}

// Marshal encodes e in the binary Protobuf form written to Kafka.
func Marshal(e *Event) ([]byte, error) { return proto.Marshal(e) }

// AppendBinary appends the binary form of e to b.
func AppendBinary(b []byte, e *Event) ([]byte, error) {
	return proto.MarshalOptions{}.MarshalAppend(b, e)
}

// Unmarshal decodes the binary Protobuf form.
func Unmarshal(b []byte) (*Event, error) {
	e := &Event{}
	if err := proto.Unmarshal(b, e); err != nil {
		return nil, err
	}
	return e, nil
}
