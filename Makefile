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

.PHONY: all build build-deps deps test demo up down docs install install-units uninstall bench bench-faults soak clean

all: build

build: build-deps
	$(CARGO) build --release --bins

# apt-get as root, else through sudo.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
# What building needs that a fresh Debian machine with only the Rust
# toolchain lacks: a C compiler (libgit2) and cmake (the vendored nng of
# the bus). `make build`, `make demo` and `make up` need no more.
build-deps:
	@command -v cc >/dev/null || { $(APT) update -qq && $(APT) install -y -qq build-essential; }
	@command -v cmake >/dev/null || { $(APT) update -qq && $(APT) install -y -qq cmake; }

# And what the tests need besides: rustfmt and clippy, git (qsnap push and
# pull run it), chromium (the HTML report's browser test, which is skipped,
# loudly, when it cannot be installed).
deps: build-deps
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v git >/dev/null || { $(APT) update -qq && $(APT) install -y -qq git; }
	@command -v chromium >/dev/null || { $(APT) update -qq && $(APT) install -y -qq chromium; } \
		|| echo "make deps: WARNING: could not install chromium; the browser test of the HTML report will be skipped" >&2

test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test

# The quarter of the fixture team from its raw sheets: raw -> qcondition ->
# qplan, each stage snapshotted in a throwaway store (demo-out/store, made
# anew each run); the reports (text, and HTML with the trend of the stored
# versions) are rendered from the stored results.
SNAP = $(RELEASE)/qsnap --store demo-out/store -q
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
# one else can talk to it); logs and pid files are there too (qwatch -v:
# chain.log says what each stage ran, and when it was done). `make down`
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
	$(UP_ENV) nohup qwatch -v --bus ipc://$(UP)/rep.sock --config fixtures/quarter/chain.toml \
		</dev/null >$(UP)/chain.log 2>&1 & echo $$! >$(UP)/chain.pid
	@echo "up: running in the background until make down:"
	@echo "  qsnap serve (pid $$(cat $(UP)/serve.pid)): the store demo-out/store on the bus, log demo-out/up/serve.log"
	@echo "  qwatch (pid $$(cat $(UP)/chain.pid)): the chain raw -> conditioned -> results (fixtures/quarter/chain.toml), log demo-out/up/chain.log"
	@echo "Give it new raw data (the sheets two weeks on) and watch the chain plan it:"
	@echo "  export QSNAP_REPO=$(CURDIR)/demo-out/store PATH=$(abspath $(RELEASE)):\$$PATH"
	@echo "  qsnap put qplan raw examples/raw-later.txt"
	@echo "  tail demo-out/up/chain.log                       # each stage's run and the commit it put"
	@echo "  qsnap log                                        # raw, conditioned, results: newest first"
	@echo "  qsnap get qplan results | qplan --format text    # the new plan"
	@echo "A put of data the store has already makes no version and runs nothing (qsnap put -v says unchanged)."

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

# `make install` puts the six commands, their man pages (section 1, and
# section 5 for the file formats) and the bash, zsh and fish completions
# under PREFIX (default /usr/local: `sudo make install`; for yourself
# alone, `make install PREFIX=~/.local`). DESTDIR is prepended to every
# path, for packagers. `make uninstall` removes exactly those files.
# It builds first when cargo is on PATH (under sudo it usually is not:
# then it installs what `make build` built, and says so if nothing was).
PREFIX ?= /usr/local
DESTDIR ?=
BINS := qpull qsnap qcondition qplan qwhatif qwatch
BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
# systemd user units (contrib/systemd/), with @BINDIR@ made the installed
# bin directory; $(PREFIX)/share/systemd/user is on the user manager's
# search path both for /usr/local and for ~/.local.
UNITDIR := $(DESTDIR)$(PREFIX)/share/systemd/user
UNITS := $(notdir $(wildcard contrib/systemd/*.service))
MAN1 := $(notdir $(wildcard man/*.1))
MAN5 := $(notdir $(wildcard man/*.5))
INSTALLED := $(addprefix $(BINDIR)/,$(BINS)) $(addprefix $(MANDIR)/man1/,$(MAN1)) \
	$(addprefix $(MANDIR)/man5/,$(MAN5)) $(addprefix $(BASHDIR)/,$(BINS)) \
	$(addprefix $(ZSHDIR)/_,$(BINS)) $(addprefix $(FISHDIR)/,$(addsuffix .fish,$(BINS))) \
	$(addprefix $(UNITDIR)/,$(UNITS))
install:
	@if command -v $(CARGO) >/dev/null; then $(MAKE) --no-print-directory build; fi
	@for b in $(BINS); do [ -x $(RELEASE)/$$b ] || { echo "make install: $(RELEASE)/$$b is missing: run make build first" >&2; exit 1; }; done
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 $(addprefix $(RELEASE)/,$(BINS)) $(BINDIR)/
	install -m 644 $(addprefix man/,$(MAN1)) $(MANDIR)/man1/
	install -m 644 $(addprefix man/,$(MAN5)) $(MANDIR)/man5/
	@for b in $(BINS); do \
		install -m 644 completions/$$b.bash $(BASHDIR)/$$b; \
		install -m 644 completions/_$$b $(ZSHDIR)/_$$b; \
		install -m 644 completions/$$b.fish $(FISHDIR)/$$b.fish; \
	done
	@$(MAKE) --no-print-directory install-units
	@echo "installed under $(DESTDIR)$(PREFIX): $(words $(INSTALLED)) files (make uninstall PREFIX=$(PREFIX) removes them)"

install-units:
	install -d $(UNITDIR)
	@for u in $(UNITS); do \
		sed 's|@BINDIR@|$(PREFIX)/bin|g' contrib/systemd/$$u > $(UNITDIR)/$$u && chmod 644 $(UNITDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(INSTALLED)

bench:
	bench/run.sh

# Fault handling's costs and leftovers (issue 10); about a minute, so
# apart from bench. Needs the release build.
bench-faults: build
	bench/faults.sh

# A year of history (issue 27): 10,000 PUTs over the bus and 3,000 local
# puts with every daemon running, and a put into a store of 100,000
# commits; about 10 minutes, so apart from bench. Needs git.
soak: build
	$(CARGO) build --release --example soak
	bench/soak.sh

clean:
	$(CARGO) clean
	rm -rf demo-out bench/data bench/out
