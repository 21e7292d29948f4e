# qplan toolkit. `make demo` runs the main job, `make test` everything CI runs.
SHELL := /bin/bash
# A pipeline fails when any of its commands fails, not only the last.
.SHELLFLAGS := -eo pipefail -c
CARGO ?= cargo
# Where cargo puts its output: CARGO_TARGET_DIR or build.target-dir when
# set (many users set one globally), else target/.
TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
RELEASE := $(or $(TARGET_DIR),target)/release
export QPLAN_RELEASE := $(RELEASE)

.PHONY: all build deps test demo docs bench bench-faults clean

all: build

build:
	$(CARGO) build --release --bins

# What a fresh Debian machine with only the Rust toolchain lacks (cmake
# builds the vendored nng of the bus; chromium runs the HTML report's
# browser test, which is skipped, loudly, when it cannot be installed).
deps:
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq build-essential; }
	@command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git; }
	@command -v cmake >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake; }
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "make deps: WARNING: could not install chromium; the browser test of the HTML report will be skipped" >&2

test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test

# The quarter of the fixture team from its raw sheets: raw -> qcondition ->
# qplan, each stage snapshotted in a throwaway store (demo-out/store, made
# anew each run); the reports (text, and HTML with the trend of the stored
# versions) are rendered from the stored results.
SNAP = $(RELEASE)/qsnap --repo demo-out/store -q
demo: build
	rm -rf demo-out && mkdir -p demo-out
	$(SNAP) put qplan raw fixtures/quarter/raw.txt -m "the fixture team's sheets" >/dev/null
	$(SNAP) get qplan raw | $(RELEASE)/qcondition --map fixtures/quarter/map.toml \
		| $(SNAP) put qplan conditioned -m "conditioned with fixtures/quarter/map.toml" >/dev/null
	$(SNAP) get qplan conditioned | $(RELEASE)/qplan | $(SNAP) put qplan results -m "plan of the fixture quarter" >/dev/null
	$(SNAP) get qplan results | $(RELEASE)/qplan --format text
	@echo
	$(SNAP) log
	@echo
	$(SNAP) trace qplan results
	$(RELEASE)/qplan --format html --store demo-out/store -o demo-out/report.html
	@echo
	@echo "The HTML report: $(abspath demo-out/report.html)"

# Man pages and completions from the clap definitions (committed).
docs:
	$(CARGO) run --quiet --example docs

bench:
	bench/run.sh

# Fault handling's costs and leftovers (issue 10); about a minute, so
# apart from bench. Needs the release build.
bench-faults: build
	bench/faults.sh

clean:
	$(CARGO) clean
	rm -rf demo-out bench/data bench/out
