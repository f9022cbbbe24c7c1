// Command protogen regenerates the Go code for the .proto files under proto/.
//
//	go run ./cmd/protogen          # write the generated files
//	go run ./cmd/protogen -check   # exit 1 if the committed files are stale
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/gamepulse/gamepulse/internal/protogen"
)

func main() {
	check := flag.Bool("check", false, "only report whether the generated files are stale")
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	gen, err := protogen.Generate(context.Background(), *root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
	if *check {
		stale, err := protogen.Stale(*root, gen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "protogen:", err)
			os.Exit(1)
		}
		if len(stale) > 0 {
			fmt.Fprintf(os.Stderr, "protogen: stale generated code: %v (run: go run ./cmd/protogen)\n", stale)
			os.Exit(1)
		}
		return
	}
	if err := protogen.Write(*root, gen); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
	fmt.Println("protogen: wrote", protogen.Names(gen))
}
