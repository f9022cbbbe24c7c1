# gamepulse: the two commands of the README are `go run ./cmd/gamepulse demo`
# and `make test`.
.PHONY: test unit lint bench generate build demo

test: ## the whole suite: static checks, unit, fuzz, real Kafka integration
	bash scripts/test.sh

unit: ## unit tests only (no external services)
	go test -race -shuffle=on ./...

# staticcheck pinned; `go run pkg@version` builds it once into the Go build cache.
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt (fails on unformatted code), go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

generate: ## regenerate Go code from proto/
	go run ./cmd/protogen

build:
	go build -ldflags "-X main.buildCommit=$$(git rev-parse HEAD 2>/dev/null)" -o bin/gamepulse ./cmd/gamepulse
	go build -o bin/gamepulse-bench ./cmd/gamepulse-bench

demo:
	go run ./cmd/gamepulse demo

bench: ## see docs/benchmarks.md
	bash scripts/bench.sh
