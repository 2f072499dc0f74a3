# slogate — see README.md. Two commands matter: `make demo` and `make test`.
GO      ?= go
BIN     := bin/slogate
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/slogate/slogate/runner.Version=$(VERSION)

.PHONY: build test demo bench lint fmt clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/slogate

# The whole suite, race detector on. Real loopback servers, real k6, real MCP.
test: lint
	$(GO) test -race -count=1 -timeout 20m ./...

# The main job: the bundled guard under load, an SLO verdict, a before/after comparison.
demo: build
	./scripts/demo.sh

# Speed and memory goals (not part of `make test`).
bench: build
	./scripts/bench.sh

# Every fuzz target in the repository, FUZZTIME each (scripts/fuzz.sh).
FUZZTIME ?= 20s
.PHONY: fuzz soak
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# The fault matrix: runs its tests and writes docs/RELIABILITY.md from them.
.PHONY: reliability
reliability:
	python3 scripts/reliability.py docs/RELIABILITY.md

# Guard -> IOC at a steady rate for SOAK_DURATION (default 3m); fails if RSS, fds or goroutines grow.
soak: build
	./scripts/soak.sh

lint:
	@fmt_out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$fmt_out" ]; then echo "gofmt needed:"; echo "$$fmt_out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out
