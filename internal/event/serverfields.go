package event

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Field numbers of the Event fields the gateway sets.
const (
	fieldSchemaVersion = 1
	fieldGameID        = 4
	fieldReceivedAt    = 9
)

// AppendWithServerFields appends to b the binary event raw followed by the
// fields the gateway owns: schema_version (when version > 0), game_id and
// received_at. A Protobuf parser keeps the last value of a scalar field and
// merges repeated message fields, so the result decodes exactly as raw with
// those three fields replaced — without decoding and re-encoding the whole
// event. received_at is written with both seconds and nanos, even when zero,
// so that nothing of a client-sent received_at survives the merge.
func AppendWithServerFields(b, raw []byte, version uint32, gameID string, receivedAt *timestamppb.Timestamp) []byte {
	b = append(b, raw...)
	if version > 0 {
		b = protowire.AppendTag(b, fieldSchemaVersion, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(version))
	}
	b = protowire.AppendTag(b, fieldGameID, protowire.BytesType)
	b = protowire.AppendString(b, gameID)
	var ts [24]byte
	t := protowire.AppendTag(ts[:0], 1, protowire.VarintType)
	t = protowire.AppendVarint(t, uint64(receivedAt.GetSeconds()))
	t = protowire.AppendTag(t, 2, protowire.VarintType)
	t = protowire.AppendVarint(t, uint64(int64(receivedAt.GetNanos())))
	b = protowire.AppendTag(b, fieldReceivedAt, protowire.BytesType)
	return protowire.AppendBytes(b, t)
}
