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

.PHONY: all build deps test demo up down docs bench bench-faults clean

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
	$(call refuse_if_up,make demo)
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

# The whole system in the background (issue 11): `qsnap serve` on the demo
# store and the chain of the fixture quarter (raw -> conditioned -> results,
# fixtures/quarter/chain.toml) run by qwatch through the bus. Sockets are
# ipc:// files under demo-out/up/ (mode 0600: no port to collide with, no
# one else can talk to it); logs and pid files are there too. `make down`
# stops both. The store is kept between runs (`make demo` starts afresh).
UP := $(CURDIR)/demo-out/up
# Fails while `make up` runs on demo-out ($(1) says who refuses): the demo
# would delete the store and pid files from under it.
define refuse_if_up
@for p in serve chain; do \
	if [ -e $(UP)/$$p.pid ] && kill -0 "$$(cat $(UP)/$$p.pid)" 2>/dev/null; then \
		echo "$(1): make up is running ($$p is pid $$(cat $(UP)/$$p.pid)); make down first" >&2; exit 1; fi; \
done
endef
UP_ENV := env QSNAP_REPO=$(CURDIR)/demo-out/store PATH=$(abspath $(RELEASE)):$$PATH
up: build
	@mkdir -p $(UP)
	$(call refuse_if_up,make up)
	$(UP_ENV) qsnap -q init
	rm -f $(UP)/rep.sock $(UP)/pub.sock
	$(UP_ENV) nohup qsnap serve --rep ipc://$(UP)/rep.sock --pub ipc://$(UP)/pub.sock \
		</dev/null >$(UP)/serve.log 2>&1 & echo $$! >$(UP)/serve.pid
	@for i in $$(seq 100); do [ -S $(UP)/rep.sock ] && break; sleep 0.05; done; \
		[ -S $(UP)/rep.sock ] || { cat $(UP)/serve.log >&2; exit 69; }
	$(UP_ENV) nohup qwatch --bus ipc://$(UP)/rep.sock --config fixtures/quarter/chain.toml \
		</dev/null >$(UP)/chain.log 2>&1 & echo $$! >$(UP)/chain.pid
	@echo "up: qsnap serve (pid $$(cat $(UP)/serve.pid)) and the chain (pid $$(cat $(UP)/chain.pid)); logs in demo-out/up/"
	@echo "try: export QSNAP_REPO=$(CURDIR)/demo-out/store; $(RELEASE)/qsnap put qplan raw fixtures/quarter/raw.txt"

# Stops what `make up` started: SIGTERM, which lets a running stage finish.
down:
	@for p in chain serve; do \
		f=$(UP)/$$p.pid; [ -e $$f ] || continue; pid=$$(cat $$f); \
		if kill -TERM "$$pid" 2>/dev/null; then \
			for i in $$(seq 200); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.05; done; \
			kill -0 "$$pid" 2>/dev/null && { echo "make down: $$p (pid $$pid) still runs after 10 s; killing it" >&2; kill -KILL "$$pid"; }; \
			echo "down: $$p (pid $$pid)"; \
		fi; \
		rm -f $$f; \
	done

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
