#!/usr/bin/env bash
# qwhatif solve (issue 28): a 12-line menu on fixtures/quarter (32,768
# combinations) proven (target < 2 s), the same lines with a goal no
# combination meets (every combination computed), and a 10-line menu with
# 3 goal items on the judged 30,000-item plan of make bench (target
# < 60 s). The asks are under bench/solve/. Run by bench/run.sh after its
# release build; prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
plan=bench/data/judged-30k.txt
[ -s "$plan" ] || "$R/examples/gen" plan 30000 3000 20 6 365 --sched 3 --dates text >"$plan"
quarter=fixtures/quarter/conditioned.txt

# scenarios computed, proven, cost: from the answer's JSON (exit 1 when no
# combination meets the goal is expected of the -none ask).
answer() { # answer ASK PLAN
	{ "$R/qwhatif" solve -q -f json -s "$1" "$2" || true; } |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("%s scenarios, proven %s, cost %s" % (d["scenarios"], str(d["proven"]).lower(), d["cost"]))'
}
# CPU seconds (user + system) of one run: the cores are shared, so the
# wall time depends on the load; the CPU time much less.
cpu() { # cpu ASK PLAN
	{ /usr/bin/time -f '%U %S' "$R/qwhatif" solve -q -s "$1" "$2" 2>&1 >/dev/null || true; } | tail -n 1 |
		awk '{ printf "%.2f", $1 + $2 }'
}

q12=$(median solve-quarter-12 5 "$R/qwhatif solve -q -s bench/solve/quarter-12.ask $quarter > /dev/null")
q12_a=$(answer bench/solve/quarter-12.ask "$quarter")
q12_cpu=$(cpu bench/solve/quarter-12.ask "$quarter")
q12n=$(median solve-quarter-12-none 5 "$R/qwhatif solve -q -s bench/solve/quarter-12-none.ask $quarter > /dev/null" -i)
q12n_a=$(answer bench/solve/quarter-12-none.ask "$quarter")
q12n_cpu=$(cpu bench/solve/quarter-12-none.ask "$quarter")
s10=$(median solve-stream-10 3 "$R/qwhatif solve -q -s bench/solve/stream-10.ask $plan > /dev/null")
s10_a=$(answer bench/solve/stream-10.ask "$plan")
s10_cpu=$(cpu bench/solve/stream-10.ask "$plan")
s10_mem=$(peak_mib "$R/qwhatif solve -q -s bench/solve/stream-10.ask $plan")

echo "## qwhatif solve ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| case | target | median wall | CPU (user+sys) | answer |"
echo "|---|---|---|---|---|"
echo "| quarter, 12 lines, 32,768 combinations (quarter-12.ask) | < 2 s | ${q12} s | ${q12_cpu} s | ${q12_a} |"
echo "| the same lines, a goal none meets: every combination (quarter-12-none.ask) | | ${q12n} s | ${q12n_cpu} s | ${q12n_a} |"
echo "| judged 30,000-item plan, 10 lines, 3 goal items (stream-10.ask; peak ${s10_mem} MiB) | < 60 s | ${s10} s | ${s10_cpu} s | ${s10_a} |"
echo
