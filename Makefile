# CityChain build and test targets. Everything needs only Go (see go.mod).
GO       ?= go
BIN      ?= bin/citychain
HOME_DEV ?= .dev
PORT     ?= 8700

.PHONY: api-docs test-race test-docs staticcheck all build test test-short test-long test-faults test-soak test-scaling test-net bench-prune lint fmt vet bench fuzz vulncheck vulncheck-if-online dev devnet clean help

NODES ?= 4

all: build

help:
	@echo "make build      build bin/citychain"
	@echo "make devnet     build and run a $(NODES)-validator local network in .devnet (Ctrl-C stops it)"
	@echo "make dev        run a one-validator development chain in $(HOME_DEV)"
	@echo "make test       gofmt, vet, staticcheck, architecture rules and every test (CI runs this)"
	@echo "make test-docs  the docs test alone: twin trees, links, and every runnable block of both languages"
	@echo "make test-long  the long simulation of the consensus driver (20,000 seeds)"
	@echo "make test-net   nodes in network namespaces: mDNS, partitions, a classroom, DHT, WAN (root)"
	@echo "make test-scaling  the simulation at 4 to 64 validators on a WAN: the table and curves of docs/scaling.md"
	@echo "make test-faults the fault matrix on real 4-node devnets, with its table"
	@echo "make test-soak  a devnet under steady load for SOAK (default 30m), checked for growth"
	@echo "make lint       formatting, vet, staticcheck, architecture rules, and govulncheck when its database is reachable"
	@echo "make vulncheck  govulncheck against the Go vulnerability database (needs the network)"
	@echo "make bench      the core benchmarks"
	@echo "make api-docs   rewrite docs/en/api.md and docs/zh/api.md from docs/openapi.yaml"
	@echo "make fuzz       run each fuzz target for FUZZTIME (default 30s; $(words $(FUZZ_TARGETS)) targets)"

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
# screenshot of every page to screenshots/. The docs test runs every
# runnable block of docs/en and docs/zh (see test-docs).
test: fmt vet staticcheck
	CITYCHAIN_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -timeout 15m ./...
	$(MAKE) test-race

# test-race runs the packages that own goroutines (node and p2p) under the
# race detector; chain and apps have none, by rule.
test-race:
	$(GO) test -race -count=1 -timeout 10m ./node/... ./p2p/...

# test-docs runs the docs test alone (make test runs it too): docs/en and
# docs/zh are twins, every relative link resolves, and every ```sh run
# block of both languages runs against a fresh 4-node devnet per page
# (cmd/citychain/docs_*_test.go; two documents of each language at a
# time, about 1.5 minutes on 2 cores).
# DOCS_LANGS=en runs one language.
DOCS_LANGS ?= en,zh
test-docs:
	$(GO) test -count=1 -timeout 20m -run 'TestDocs|TestParseMarkdown|TestSlug|TestCompareTwins|TestRewriteBlock' -v ./cmd/citychain/ -args -docs-langs $(DOCS_LANGS)

test-short: fmt vet
	$(GO) test -short -count=1 ./...

test-long:
	$(GO) test -count=1 -timeout 120m ./node/ -run 'TestSimulation$$' -seeds 20000 -v

# test-net runs every node in its own network namespace behind a switch
# that delays, drops and partitions frames (p2p/netlab; needs root and
# iproute2, and skips otherwise). About 5.5 minutes on 2 cores; make test
# runs only its short case.
test-net:
	$(GO) test -count=1 -timeout 5m -v ./p2p/netlab/
	$(GO) test -count=1 -timeout 30m -v -run 'TestNetns' ./cmd/citychain/ -args -netns

# test-faults applies every fault of the matrix (kills, pauses, a wiped
# folder, partitions, skewed clocks, a power cut, a twin validator) to a
# fresh devnet each under a stream of transfers, checks the invariants
# after each and prints the table (also written to FAULT_TABLE).
FAULT_TABLE ?= faults.txt
test-faults:
	CITYCHAIN_FAULT_TABLE=$(CURDIR)/$(FAULT_TABLE) $(GO) test -count=1 -timeout 60m ./cmd/citychain/ -run 'TestFaultMatrix$$' -v -args -faults
	@cat $(FAULT_TABLE)

# test-soak runs a devnet under the city simulator and 100 transfers a
# second for SOAK, samples every node and checks that memory, goroutines,
# open files and disk per block stay within bounds (report in SOAK_REPORT).
SOAK ?= 30m
SOAK_REPORT ?= soak.txt
test-soak:
	CITYCHAIN_SOAK_REPORT=$(CURDIR)/$(SOAK_REPORT) $(GO) test -count=1 -timeout 0 ./cmd/citychain/ -run 'TestSoak$$' -v -args -soak $(SOAK)
	@cat $(SOAK_REPORT)

# test-scaling prints the table of docs/scaling.md and redraws its curves
# (docs/scaling.svg). SCALING_ARGS narrows it, e.g.
# SCALING_ARGS='-scaling-sizes 4,7 -scaling-seeds 1'.
SCALING_ARGS ?=
test-scaling:
	$(GO) test -count=1 -timeout 90m ./node/ -run 'TestScaling$$' -v -args -scaling -scaling-svg $(CURDIR)/docs/scaling.svg $(SCALING_ARGS)

lint: fmt vet staticcheck
	$(GO) test -count=1 -run TestArchitecture ./cmd/citychain/
	@$(MAKE) --no-print-directory vulncheck-if-online

bench:
	$(GO) test -run '^$$' -bench . -skip 'BenchmarkPruneState' -benchtime 20x ./chain/ ./chain/state/ ./chain/store/ ./apps/bank/ ./chain/crypto/ ./node/

# bench-prune measures what state pruning gives back on disk (about 3 min).
bench-prune:
	$(GO) test -run '^$$' -bench 'BenchmarkPruneState' -benchtime 1x ./chain/store/

# FUZZ_TARGETS are the fuzz targets of the tree, as package:name: every
# decoder of bytes from a peer, a client or a file has one.
FUZZTIME ?= 30s
# Minimizing each new interesting input may take up to a minute by
# default, which would eat the whole FUZZTIME of a slow target.
FUZZMINIMIZE ?= 2s
FUZZ_TARGETS = \
	./chain/:FuzzDecodeTx ./chain/:FuzzDecodeBlock ./chain/:FuzzPayloadFromJSON ./chain/:FuzzTxFromJSON \
	./chain/:FuzzDecodeEvidence ./chain/:FuzzDecodeConsensusMessage ./chain/:FuzzDecodeTxRequest \
	./chain/:FuzzDecodeTxBatch ./chain/:FuzzDecodeSyncRequest ./chain/:FuzzDecodeCommit ./chain/:FuzzLoadGenesis \
	./chain/state/:FuzzVerifyProof ./chain/consensus/:FuzzDecodeDoubleSignGuard ./chain/crypto/:FuzzKeyTableVerify \
	./p2p/:FuzzDecodeStatus ./p2p/:FuzzSyncAnswer ./p2p/:FuzzTxAnswer \
	./node/:FuzzGossipTx ./node/:FuzzGossipConsensus ./node/:FuzzSyncAnswerDecode ./node/:FuzzParseConfig \
	./node/:FuzzDecodeBatch ./node/:FuzzDecodeBlockAnswer \
	./node/keystore/:FuzzParseFile \
	./apps/trace/:FuzzParseDocument ./apps/copyright/:FuzzReadCertificate ./apps/copyright/:FuzzParseBlockEvidence \
	./apps/city/:FuzzParseFIWARE
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${name}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
	done

# api-docs writes the API reference pages from the OpenAPI document; the
# tests fail when the committed pages are not what the document makes.
api-docs:
	$(GO) test -count=1 -run 'TestOpenAPIReferenceIsUpToDate$$' ./node/ -args -update-api

# vulncheck looks up every module and standard library package the
# binary uses in the Go vulnerability database (vuln.go.dev).
GOVULNCHECK = $(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB ?= https://vuln.go.dev
vulncheck:
	$(GOVULNCHECK) -db $(VULNDB) ./...

# vulncheck-if-online runs vulncheck where the database answers, and says
# plainly that it did not where it does not (an offline machine), without
# failing: lint must pass offline.
vulncheck-if-online:
	@if command -v curl >/dev/null 2>&1 && curl -sfI --max-time 5 -o /dev/null $(VULNDB)/index/db.json.gz; then \
		$(MAKE) --no-print-directory vulncheck; \
	else \
		echo "vulncheck: SKIPPED: the Go vulnerability database $(VULNDB) cannot be reached from this machine (offline, or no curl); run 'make vulncheck' where it can"; \
	fi

clean:
	rm -rf bin
