# hlsrelay: the README's commands. `make demo` runs the product, `make test`
# runs every test (installing what the tests need first).

GO        ?= go
BIN       := bin
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GO_PKGS   := ./server/... ./sdk-go/... ./tools/... ./plugins/...
GUEST_PKGS := ./plugins/pdk/... ./plugins/jwtauth/... ./plugins/route/...
TOOLS     := publish token bench pull tcpfloor cluster

.PHONY: all build plugins js demo test test-go test-js test-browser lint deps fuzz bench bench-browser clean

all: build

## plugins: the default policy plugins, built to WASM and embedded into the relay by `build`
plugins:
	./scripts/build-plugins.sh

## build: the relay as bin/hlsrelay (with the default plugins embedded), the tools beside it,
## and the TypeScript SDK (js)
build: plugins js
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/hlsrelay ./server/cmd/hlsrelay
	@for t in $(TOOLS); do $(GO) build -o $(BIN)/$$t ./tools/cmd/$$t || exit 1; done

## js: the TypeScript SDK in sdk-js/dist: esbuild bundles through tools/cmd/jsbuild (it prints
## the script-tag bundle sizes), then .d.ts from tsc; npm ci first when the lock file changed.
## jsbuild also builds the player demo page (player-demo/dist), which the relay embeds.
js: node_modules/.package-lock.json
	$(GO) run ./tools/cmd/jsbuild
	npm run --silent --workspace sdk-js build:types

node_modules/.package-lock.json: package.json package-lock.json sdk-js/package.json player-demo/package.json
	npm ci --no-audit --no-fund
	@touch $@

## demo: a relay with demo secrets and the sample stream published in a loop
demo: build
	./scripts/demo.sh

## test: install test dependencies, check formatting and vet, run every test
test: deps plugins lint test-go test-js test-browser

deps:
	./scripts/install-test-deps.sh

lint:
	@out=$$(gofmt -l server sdk-go tools plugins); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GO_PKGS)
	GOOS=wasip1 GOARCH=wasm $(GO) vet $(GUEST_PKGS)
	$(GO) run $(STATICCHECK) $(GO_PKGS)

## test-go: every Go test (after build: some tests bundle the TypeScript with node_modules, and
## the relay embeds the demo page)
test-go: build
	$(GO) test -race -timeout 20m $(GO_PKGS)

## test-js: the SDK type-checked (strict), then its unit, hls.js, relay and npm pack tests
test-js: build
	npm run --silent --workspace sdk-js typecheck
	npm test --workspace sdk-js

## test-browser: the player demo type-checked, then played in headless Chromium (playwright-core)
## against real relays: one relay, a cluster (Redis + registry), a publisher and a viewer
## reconnecting, HLS over HTTP; prints glass-to-glass latency and time to first frame
test-browser: build
	npm run --silent --workspace player-demo typecheck
	npm test --workspace player-demo

## bench-browser: only the browser latency figures of docs/benchmarks.md (60 s per mode, 10 + 10 page loads)
bench-browser: build
	npm run --workspace player-demo bench

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./sdk-go/protocol -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sdk-go/cmaf -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sdk-go/cmaf -run '^$$' -fuzz '^FuzzShiftDecodeTimes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/internal/config -run '^$$' -fuzz '^FuzzParseDotenv$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/internal/hlshttp -run '^$$' -fuzz '^FuzzParsePath$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/internal/hlshttp/hlscheck -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/internal/hlshttp/hlscheck -run '^$$' -fuzz '^FuzzParseAttributes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./plugins/pdk -run '^$$' -fuzz '^FuzzAppendBase64URL$$' -fuzztime $(FUZZTIME)
	$(GO) test ./plugins/pdk -run '^$$' -fuzz '^FuzzJSONScanner$$' -fuzztime $(FUZZTIME)
	$(GO) test ./plugins/pdk -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME)

## bench: Go benchmarks of the hot paths, then the relay load figures of docs/benchmarks.md
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./server/internal/hub/ ./sdk-go/protocol/
	./scripts/bench-relay.sh

clean:
	rm -rf $(BIN) sdk-js/dist sdk-js/.test-out player-demo/dist player-demo/.test-out
