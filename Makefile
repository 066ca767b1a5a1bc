# harbor-flashduty: `make demo` and `make test` set themselves up on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Python-packaged tools: cargo-lambda (brings zig), SAM CLI (brings cfn-lint), moto as local SSM.
PY_TOOLS := cargo-lambda ziglang aws-sam-cli 'moto[server]'
export SAM_CLI_TELEMETRY := 0
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv demo test unit e2e lint-rust core-purity audit clean

help:
	@echo "make demo    run the function locally on every sample payload and show the alerts"
	@echo "make test    every check and test (what CI runs)"
	@echo "make bench   benchmarks: conversion, cold start, latency, memory, binary size -> BENCHMARKS.md"
	@echo "make build | deploy | config | logs | invoke EVENT=... | lint-template   (see README)"

$(BIN)/.installed:
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

venv: $(BIN)/.installed

demo: venv
	cargo build --quiet --bin harbor-flashduty
	$(BIN)/python scripts/demo.py

# Everything CI checks, in order of speed.
test: venv lint-rust core-purity unit e2e secrets-scan lint-template build-check audit

# The pure core links no I/O crate (docs/ARCHITECTURE.md).
core-purity:
	scripts/check_core_deps.sh

lint-rust:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

# Unit tests, the core's test binary and the package's in-process one (tests/handler) need
# nothing outside cargo; the end-to-end binary (tests/e2e) finds cargo-lambda and moto_server on
# PATH (the venv).
unit:
	cargo build --quiet --bins
	$(call nextest,--workspace --lib --bins)
	$(call nextest,-p harbor-flashduty-core --test core)
	$(call nextest,-p harbor-flashduty --test handler)

e2e: venv
	cargo build --quiet --bins
	$(call nextest,-p harbor-flashduty --test e2e)

# Known vulnerabilities in Cargo.lock. Offline, the RustSec snapshot beside the checkout is used
# when there is one (an optional aid); elsewhere cargo-audit fetches its own database.
ADVISORY_DB := $(wildcard ../shared/advisory-db)
audit:
	command -v cargo-audit >/dev/null || cargo install --locked --quiet cargo-audit
	if [ -n "$(ADVISORY_DB)" ]; then \
	  cargo audit --db $(ADVISORY_DB) --no-fetch; \
	else \
	  cargo audit; \
	fi

clean:
	cargo clean
	rm -rf $(VENV) .aws-sam

# cargo-nextest when present (it is on this kind of machine), else cargo test.
# $(1): cargo's arguments; $(2), optional: the top-level test modules to run, e.g.
# `faults hostile` (tests whose names start `faults::` or `hostile::`).
space := $(subst ,, )
define nextest
	if command -v cargo-nextest >/dev/null; then \
	  cargo nextest run --no-fail-fast $(1)$(if $(2), -E 'test(/^($(subst $(space),|,$(strip $(2))))::/)'); \
	else \
	  cargo test --no-fail-fast $(1)$(if $(2), -- $(addsuffix ::,$(2))); \
	fi
endef

-include mk/*.mk
