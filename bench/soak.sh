#!/usr/bin/env bash
# The soak (issue 27): does a put, and does every daemon, stay flat as the
# store grows? Run by `make soak` (after the release build); about 10
# minutes with the defaults on a quiet machine. Prints a Markdown section
# for bench/RESULTS.md. examples/soak.rs does the work (see its doc).
#
#   SOAK_BUS_PUTS    PUTs over the bus into a fresh store, with qsnap serve,
#                    qwatch --bus, qwhatif serve and qwhatif serve --bus
#                    running (default 10,000; the issue's year is 100,000)
#   SOAK_LOCAL_PUTS  local qsnap puts beside qwatch --repo (default 3,000)
#   SOAK_BIG         commits of the big store for the put comparison
#                    (default 100,000)
#   SOAK_RUNS        puts into each store for that comparison (default 200)
#
# Stores are throwaway: QSNAP_FSYNC=0, as in the issue's own runs.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${QPLAN_RELEASE:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release}
BUS=${SOAK_BUS_PUTS:-10000}
LOCAL=${SOAK_LOCAL_PUTS:-3000}
BIG=${SOAK_BIG:-100000}
RUNS=${SOAK_RUNS:-200}
export QSNAP_FSYNC=0
mkdir -p bench/out
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
S="$R/examples/soak"
load() { cut -d' ' -f1-3 /proc/loadavg; }

# table FILE: the rows as a Markdown table, thousands grouped, RSS in MB.
table() {
	python3 - "$1" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip() and l[0].isdigit() or l.startswith("puts ")]
head, rows = rows[0], rows[1:]
names = [h[:-4].replace("_", " ") + " RSS" for h in head[3:]]
print("| puts so far | median PUT latency | p90 | " + " | ".join(names) + " |")
print("|---" * (3 + len(names)) + "|")
for r in rows:
    mem = ["%.1f MB" % (int(k) * 1024 / 1e6) for k in r[3:]]
    print("| %s | %s ms | %s ms | %s |" % (format(int(r[0]), ","), r[1], r[2], " | ".join(mem)))
EOF
}

echo "## soak (issue 27: $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), QSNAP_FSYNC=0)"
echo
echo "### $BUS PUTs over the bus, qsnap serve, qwatch --bus, qwhatif serve and its bus running"
echo
echo "Load average (1, 5, 15 min) before: $(load)."
"$S" bus "$R" "$work/bus" "$BUS" 1000 >bench/out/soak-bus.txt 2>bench/out/soak-bus-detail.txt
echo "After: $(load). A WHATIF over the bus and a page load every 100 puts: $(awk '$1 == "whatifs_answered" { print $2 }' bench/out/soak-bus.txt) what-ifs answered, $(awk '$1 == "pages_loaded" { print $2 }' bench/out/soak-bus.txt) pages loaded."
echo
table bench/out/soak-bus.txt
echo

echo "### $LOCAL local puts (a qsnap process each), qwatch --repo running"
echo
echo "Load average before: $(load)."
"$S" local "$R" "$work/local" "$LOCAL" 500 >bench/out/soak-local.txt 2>bench/out/soak-local-detail.txt
echo "After: $(load)."
echo
table bench/out/soak-local.txt
echo

echo "### A local put into a store of $BIG commits and into a fresh one"
echo
"$S" build "$work/big" "$BIG" >/dev/null
"$S" build "$work/fresh" 100 >/dev/null
echo "The stores are made by git fast-import (one pack; qplan raw, conditioned and results in turn). $RUNS puts into each, in turn. Load average before: $(load)."
"$S" compare "$R" "$work/fresh" "$work/big" "$RUNS" >bench/out/soak-compare.txt
v() { awk -v k="$1" '$1 == k { print $2 }' bench/out/soak-compare.txt; }
echo "After: $(load)."
echo
echo "| store | median put | p90 |"
echo "|---|---|---|"
echo "| fresh (100 commits) | $(v a_median_ms) ms | $(v a_p90_ms) ms |"
echo "| $BIG commits | $(v b_median_ms) ms | $(v b_p90_ms) ms |"
echo
echo "Ratio of the medians: $(v ratio) (goal: within 2)."
