# hlsrelay: the README's commands. `make demo` runs the product, `make test`
# runs every test (installing what the tests need first).

GO        ?= go
BIN       := bin
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GO_PKGS   := ./server/... ./sdk-go/... ./tools/... ./plugins/...
GUEST_PKGS := ./plugins/pdk/... ./plugins/jwtauth/... ./plugins/route/...
TOOLS     := publish token bench pull tcpfloor

.PHONY: all build plugins demo test test-go lint deps fuzz bench clean

all: build

## plugins: the default policy plugins, built to WASM and embedded into the relay by `build`
plugins:
	./scripts/build-plugins.sh

## build: the relay as bin/hlsrelay (with the default plugins embedded) and the tools beside it
build: plugins
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/hlsrelay ./server/cmd/hlsrelay
	@for t in $(TOOLS); do $(GO) build -o $(BIN)/$$t ./tools/cmd/$$t || exit 1; done

## demo: a relay with demo secrets and the sample stream published in a loop
demo: build
	./scripts/demo.sh

## test: install test dependencies, check formatting and vet, run every test
test: deps plugins lint test-go

deps:
	./scripts/install-test-deps.sh

lint:
	@out=$$(gofmt -l server sdk-go tools plugins); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GO_PKGS)
	GOOS=wasip1 GOARCH=wasm $(GO) vet $(GUEST_PKGS)
	$(GO) run $(STATICCHECK) $(GO_PKGS)

test-go:
	$(GO) test -race -timeout 20m $(GO_PKGS)

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./sdk-go/protocol -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/internal/config -run '^$$' -fuzz '^FuzzParseDotenv$$' -fuzztime $(FUZZTIME)
	$(GO) test ./plugins/pdk -run '^$$' -fuzz '^FuzzAppendBase64URL$$' -fuzztime $(FUZZTIME)
	$(GO) test ./plugins/pdk -run '^$$' -fuzz '^FuzzJSONScanner$$' -fuzztime $(FUZZTIME)
	$(GO) test ./plugins/pdk -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME)

## bench: Go benchmarks of the hot paths, then the relay load figures of docs/benchmarks.md
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./server/internal/hub/ ./sdk-go/protocol/
	./scripts/bench-relay.sh

clean:
	rm -rf $(BIN)
