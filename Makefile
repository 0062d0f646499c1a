# Two commands matter: `go run ./automation rehearse staging` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
PULUMI_VERSION := v3.274.1
PULUMI := $(BIN)/pulumi
ACTIONLINT := $(BIN)/actionlint
STATICCHECK := $(BIN)/staticcheck
TOOLS_MOD := -modfile=$(CURDIR)/tools/go.mod
export PATH := $(BIN):$(PATH)
# The driver tests find the CLI here.
export PULUMI_CLI_PATH := $(PULUMI)

.PHONY: all tools test test-short lint check bench clean program

all: lint test

## tools: build the pulumi CLI (version-stamped, same version as the SDK), actionlint and staticcheck into ./bin
tools: $(PULUMI) $(ACTIONLINT) $(STATICCHECK)

# Rebuilt only when the pinned version changes (the stamp file records it).
$(PULUMI): tools/go.mod
	@mkdir -p $(BIN)
	@if [ -x $(PULUMI) ] && [ "$$($(PULUMI) version 2>/dev/null)" = "$(PULUMI_VERSION)" ]; then \
		echo "pulumi $(PULUMI_VERSION) already built"; touch $(PULUMI); \
	else \
		echo "building pulumi $(PULUMI_VERSION) from the Go module (a few minutes the first time)"; \
		cd tools && $(GO) build -trimpath -o $(PULUMI) \
			-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$(PULUMI_VERSION)" \
			github.com/pulumi/pulumi/pkg/v3/cmd/pulumi; \
	fi

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

## test: every test that needs no AWS account (the driver tests use ./bin/pulumi)
test: $(PULUMI)
	$(GO) test -count=1 -timeout 12m ./...
	cd examples/consumer && GOFLAGS=-mod=mod $(GO) test -count=2 ./...

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

## program: build the CLI entry point named by Pulumi.yaml
program:
	$(GO) build -o $(BIN)/mirror-dissonance-program ./cmd/program

## bench: the benchmarks quoted in docs/performance.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN) .pulumi-state out
