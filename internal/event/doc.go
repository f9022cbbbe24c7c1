// Package event owns the gamepulse event schema on the Go side: the generated
// Protobuf types (event.pb.go, from proto/gamepulse/v1/event.proto), the rules
// an event must meet (Validate), and the decoders that split a posted batch
// into events one by one so that a bad event never takes its neighbours down
// (DecodeBatch). It does no I/O.
//
// Regenerate the Protobuf code with `go run ./cmd/protogen`; a test fails when
// the committed code is stale.
package event
