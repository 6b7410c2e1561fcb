# CityChain build and test targets. Everything needs only Go (see go.mod).
GO       ?= go
BIN      ?= bin/citychain
HOME_DEV ?= .dev
PORT     ?= 8700

.PHONY: test-race staticcheck all build test test-short test-long test-net lint fmt vet bench fuzz dev devnet clean help

NODES ?= 4

all: build

help:
	@echo "make build      build bin/citychain"
	@echo "make devnet     build and run a $(NODES)-validator local network in .devnet (Ctrl-C stops it)"
	@echo "make dev        run a one-validator development chain in $(HOME_DEV)"
	@echo "make test       gofmt, vet, staticcheck, architecture rules and every test (CI runs this)"
	@echo "make test-long  the long simulation of the consensus driver (20,000 seeds)"
	@echo "make test-net   nodes in network namespaces: mDNS, partitions, a classroom, DHT, WAN (root)"
	@echo "make lint       formatting, vet, staticcheck and architecture rules"
	@echo "make bench      the core benchmarks"
	@echo "make fuzz       run each fuzz target for FUZZTIME (default 30s)"

build:
	$(GO) build -o $(BIN) ./cmd/citychain

devnet: build
	$(BIN) devnet --nodes $(NODES) --dir .devnet --base-port $(PORT)

dev: build
	$(BIN) dev --home $(HOME_DEV) --base-port $(PORT)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

staticcheck:
	$(STATICCHECK) ./...

# test is what CI runs: under 10 minutes on a 2-core machine. The
# architecture rules (import direction, determinism) are tests in
# cmd/citychain/arch_test.go. The explorer's browser tests write a
# screenshot of every page to screenshots/.
test: fmt vet staticcheck
	CITYCHAIN_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -timeout 15m ./...
	$(MAKE) test-race

# test-race runs the packages that own goroutines (node and p2p) under the
# race detector; chain and apps have none, by rule.
test-race:
	$(GO) test -race -count=1 -timeout 10m ./node/... ./p2p/...

test-short: fmt vet
	$(GO) test -short -count=1 ./...

test-long:
	$(GO) test -count=1 -timeout 120m ./node/ -run 'TestSimulation$$' -seeds 20000 -v

# test-net runs every node in its own network namespace behind a switch
# that delays, drops and partitions frames (p2p/netlab; needs root and
# iproute2, and skips otherwise). About 12 minutes on 2 cores; make test
# runs only its short case.
test-net:
	$(GO) test -count=1 -timeout 5m -v ./p2p/netlab/
	$(GO) test -count=1 -timeout 30m -v -run 'TestNetns' ./cmd/citychain/ -args -netns

lint: fmt vet staticcheck
	$(GO) test -count=1 -run TestArchitecture ./cmd/citychain/

bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./chain/ ./chain/state/ ./chain/store/ ./apps/bank/ ./node/

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTx$$' -fuzztime $(FUZZTIME) ./chain/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBlock$$' -fuzztime $(FUZZTIME) ./chain/
	$(GO) test -run '^$$' -fuzz '^FuzzPayloadFromJSON$$' -fuzztime $(FUZZTIME) ./chain/
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyProof$$' -fuzztime $(FUZZTIME) ./chain/state/

clean:
	rm -rf bin
