# qplan toolkit. `make demo` runs the main job, `make test` everything CI runs.
SHELL := /bin/bash
CARGO ?= cargo
RELEASE := target/release

.PHONY: all build deps test demo docs bench clean

all: build

build:
	$(CARGO) build --release --bins

# What a fresh Debian machine with only the Rust toolchain lacks.
deps:
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq build-essential; }

test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test

# The quarter of the fixture team, as a report to read.
demo: build
	$(RELEASE)/qplan --format text fixtures/quarter/conditioned.txt

# Man pages and completions from the clap definitions (committed).
docs:
	$(CARGO) run --quiet --example docs

bench:
	bench/run.sh

clean:
	$(CARGO) clean
	rm -rf demo-out bench/data bench/out
