// Package protogen turns the repository's .proto files into Go code without a
// system protoc: bufbuild/protocompile parses and links the files, and the
// protoc-gen-go plugin pinned in go.mod (run as `go tool protoc-gen-go`)
// writes the Go code. Both versions come from go.mod, so the output is
// reproducible on any machine with Go.
package protogen

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"
)

// Module is the Go module path; generated files are placed by their
// go_package relative to it.
const Module = "github.com/gamepulse/gamepulse"

// Files lists the .proto files to generate, relative to the proto directory.
var Files = []string{"gamepulse/v1/event.proto"}

// Generate compiles the .proto files under root/proto and returns the
// generated Go files keyed by their path relative to root.
func Generate(ctx context.Context, root string) (map[string][]byte, error) {
	comp := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			ImportPaths: []string{filepath.Join(root, "proto")},
		}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	files, err := comp.Compile(ctx, Files...)
	if err != nil {
		return nil, fmt.Errorf("compile protos: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: Files,
		Parameter:      proto.String("module=" + Module),
	}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) { // dependencies first, as protoc does
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for i := 0; i < imps.Len(); i++ {
			add(imps.Get(i).FileDescriptor)
		}
		req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range files {
		add(f)
	}
	in, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("marshal plugin request: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "protoc-gen-go")
	cmd.Dir = root
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run protoc-gen-go: %w: %s", err, stderr.String())
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("decode plugin response: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("protoc-gen-go: %s", resp.GetError())
	}
	gen := map[string][]byte{}
	for _, f := range resp.File {
		gen[filepath.FromSlash(f.GetName())] = []byte(f.GetContent())
	}
	return gen, nil
}

// Stale compares generated output with the files on disk under root and
// returns the paths that differ or are missing.
func Stale(root string, gen map[string][]byte) ([]string, error) {
	var stale []string
	for path, want := range gen {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if !bytes.Equal(got, want) {
			stale = append(stale, path)
		}
	}
	return stale, nil
}

// Write writes the generated files under root.
func Write(root string, gen map[string][]byte) error {
	for path, content := range gen {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// Names returns the generated paths, sorted, for messages.
func Names(gen map[string][]byte) string {
	var names []string
	for p := range gen {
		names = append(names, p)
	}
	return strings.Join(names, ", ")
}
