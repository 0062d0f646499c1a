# Two commands matter: `go run ./automation rehearse staging` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
PULUMI_VERSION := v3.274.1
PULUMI := $(BIN)/pulumi
ACTIONLINT := $(BIN)/actionlint
STATICCHECK := $(BIN)/staticcheck
TOOLS_MOD := -modfile=$(CURDIR)/tools/go.mod
# (Defined before the rules: make expands prerequisites as it reads them.)
# dynalite 4.0.0, an independent DynamoDB for the emulator's WithDynalite
# tests, from npm with the committed lock file. Without node the tests that
# need it skip (and .ci/run requires node, so CI never skips them).
DYNALITE := tools/dynalite/node_modules/dynalite/cli.js
DYNALITE_DEP := $(if $(shell command -v npm),$(DYNALITE))
export PATH := $(BIN):$(PATH)
# The driver tests find the CLI here.
export PULUMI_CLI_PATH := $(PULUMI)

.PHONY: all tools test test-short fuzz-short lint check bench clean program

all: lint test

## tools: build the pulumi CLI (version-stamped, same version as the SDK), actionlint and staticcheck into ./bin; install dynalite from npm (lock file) when npm exists
tools: $(PULUMI) $(ACTIONLINT) $(STATICCHECK) $(DYNALITE_DEP)

# A pulumi of the pinned version already on PATH (outside ./bin; on GitHub the
# pulumi/actions setup step installs the release) is linked into ./bin; only
# when there is none is it built from the Go module (as on our own CI
# machines, which cannot download a release). NO_PULUMI_BUILD=1 turns the
# build into an error, so a workflow can never fall back to a 10-minute build.
$(PULUMI): tools/go.mod
	@mkdir -p $(BIN)
	@found=""; IFS=:; for d in $$PATH; do \
		[ "$$d" = "$(BIN)" ] && continue; \
		if [ -x "$$d/pulumi" ] && [ "$$("$$d/pulumi" version 2>/dev/null)" = "$(PULUMI_VERSION)" ]; then found="$$d/pulumi"; break; fi; \
	done; \
	if [ -x $(PULUMI) ] && [ "$$($(PULUMI) version 2>/dev/null)" = "$(PULUMI_VERSION)" ]; then \
		echo "pulumi $(PULUMI_VERSION) already in ./bin"; touch $(PULUMI); \
	elif [ -n "$$found" ]; then \
		echo "pulumi $(PULUMI_VERSION) found at $$found; linking it into ./bin"; ln -sf "$$found" $(PULUMI); \
	elif [ -n "$(NO_PULUMI_BUILD)" ]; then \
		echo "no pulumi $(PULUMI_VERSION) on PATH and NO_PULUMI_BUILD is set: install the release first (pulumi/actions with pulumi-version $(PULUMI_VERSION:v%=%))" >&2; exit 1; \
	else \
		echo "building pulumi $(PULUMI_VERSION) from the Go module (a few minutes the first time)"; \
		cd tools && $(GO) build -trimpath -o $(PULUMI) \
			-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$(PULUMI_VERSION)" \
			github.com/pulumi/pulumi/pkg/v3/cmd/pulumi; \
	fi


$(DYNALITE): tools/dynalite/package.json tools/dynalite/package-lock.json
	cd tools/dynalite && npm ci --no-audit --no-fund
	@touch $(DYNALITE)

# The linters build with their own go.mod (their dependencies conflict with
# pulumi's), pinned here.
ACTIONLINT_VERSION := v1.7.12
STATICCHECK_VERSION := v0.8.2

$(ACTIONLINT): Makefile
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(STATICCHECK): Makefile
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The packages whose tests run parallel emulators (and that the Oracle team
# copies) run under the race detector; the rest without, to keep make test
# short on two cores.
RACE_PKGS := ./emulator/... ./verify/... ./oracle/...
MODULE := github.com/mirror-dissonance/mirror-infra

## test: every test that needs no AWS account (the driver tests use ./bin/pulumi); the emulator, verify, oracle and consumer packages with -race
test: $(PULUMI) $(DYNALITE_DEP)
	$(GO) test -count=1 -timeout 12m $$($(GO) list ./... | grep -v -E '^$(MODULE)/(emulator|verify|oracle)(/|$$)')
	$(GO) test -race -count=1 -timeout 12m $(RACE_PKGS)
	cd examples/consumer && GOFLAGS=-mod=mod $(GO) test -race -count=2 ./...
	$(MAKE) fuzz-short

## fuzz-short: each fuzz test of the stack-config parser and the target
## validation for a few seconds (FUZZTIME); part of make test
FUZZTIME ?= 5s
fuzz-short:
	$(GO) test ./stacks/stackconfig -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./stacks/stackconfig -run '^$$' -fuzz '^FuzzCheckKey$$' -fuzztime $(FUZZTIME)
	$(GO) test ./verify/target -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)

## lint: gofmt, go vet, staticcheck and actionlint
lint: $(STATICCHECK) $(ACTIONLINT)
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(ACTIONLINT) -color=false .github/workflows/*.yml docs/examples/oracle-check.yml

## check: the offline gate check of both stacks (no credentials needed)
check:
	$(GO) run ./automation check staging
	$(GO) run ./automation check production

## rehearse: build bin/automation once (go run compiles on every call), then the offline rehearsal of staging
rehearse:
	$(GO) build -o $(BIN)/automation ./automation
	$(BIN)/automation rehearse staging

## program: build the CLI entry point named by Pulumi.yaml
program:
	$(GO) build -o $(BIN)/mirror-dissonance-program ./cmd/program

## bench: the benchmarks quoted in docs/performance.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN) .pulumi-state out
