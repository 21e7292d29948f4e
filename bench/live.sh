#!/usr/bin/env bash
# The live page and nothing polling (issue 22), release build, on loopback:
# - put -> DOM updated: headless Chromium on `qwhatif serve --http` with a
#   what-if typed in its form; N puts of new `qplan results` (one item
#   renamed each), the time from the put's return to the page's
#   `qw-updated` event (the new report in place), p50 / p95 / max;
#   bench/live_browser.py. Skipped, and said, without chromium;
# - GET / (a fresh connection each, 50 of them) while 500 event streams
#   and 300 slowloris connections (a header byte every 3 s) are open;
#   bench/live_load.py;
# - idle cost over IDLE seconds (default 60) of qsnap serve, qwatch
#   --store, qwatch --bus and the page server with 100 event streams
#   open (raw SSE connections, as 100 idle EventSource pages hold them):
#   CPU seconds (utime + stime from /proc/PID/stat) and wake-ups
#   (voluntary context switches of all threads, /proc/PID/task/*/status),
#   both per minute. OLD=DIR also measures the qwatch and qwhatif of
#   another build in DIR (the polling ones, for the before figure).
# Run by bench/run.sh after its release build; prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ -n "${NO_BUILD:-}" ] || cargo build --quiet --release --bins
D=$(mktemp -d "${TMPDIR:-/tmp}/live-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
export PATH="$R:$PATH" QSNAP_FSYNC=0
N=${N:-50}
IDLE=${IDLE:-60}
load() { cut -d' ' -f1-3 /proc/loadavg; }

# A store with the fixture quarter: conditioned, then its results.
quarter() { # quarter DIR
	qsnap --store "$1/store" -q put qplan conditioned fixtures/quarter/conditioned.txt >/dev/null
	qsnap --store "$1/store" get qplan conditioned | qplan -q >"$1/results.txt"
	qsnap --store "$1/store" -q put qplan results "$1/results.txt" >/dev/null
}

# page DIR [QWHATIF [ARGS...]]: qwhatif serve on DIR/store; sets $addr, $page_pid.
page() {
	local dir=$1 bin=${2:-qwhatif}
	shift 2 || shift $#
	rm -f "$dir/ready"
	"$bin" serve --http 127.0.0.1:0 --store "$dir/store" --ready-file "$dir/ready" "$@" 2>"$dir/page.log" &
	page_pid=$!
	pids+=("$page_pid")
	for _ in $(seq 500); do [ -s "$dir/ready" ] && break; sleep 0.01; done
	[ -s "$dir/ready" ] || { cat "$dir/page.log" >&2; exit 1; }
	addr=$(sed 's|http://||; s|/$||' "$dir/ready")
}

# 1. put -> DOM updated in Chromium.
mkdir -p "$D/dom"
quarter "$D/dom"
page "$D/dom"
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -n "$browser" ]; then
	dom_load=$(load)
	dom=$(python3 bench/live_browser.py "$browser" "http://$addr/" "$D/dom/store" "$D/dom/results.txt" "$N")
else
	dom_load=$(load)
	dom='{"skipped": "no chromium"}'
fi
kill "$page_pid"

# 2. GET / under 500 streams and 300 slowloris connections.
page "$D/dom"
crowd_load=$(load)
crowd=$(python3 bench/live_load.py "$addr" "$page_pid" --sse 500 --slow 300 --gets 50 --drip 3)
kill "$page_pid"

# 3. Idle cost.
mkdir -p "$D/idle"
quarter "$D/idle"
qsnap --store "$D/idle/store" serve --rep "ipc://$D/idle/rep" --pub "ipc://$D/idle/pub" 2>"$D/idle/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 500); do [ -S "$D/idle/rep" ] && break; sleep 0.01; done
qwatch -q --store "$D/idle/store" --state "$D/idle/cp-store" qplan raw -- true 2>"$D/idle/w1.log" &
wstore_pid=$!
pids+=("$wstore_pid")
qwatch -q --bus "ipc://$D/idle/rep" --state "$D/idle/cp-bus" qplan raw -- true 2>"$D/idle/w2.log" &
wbus_pid=$!
pids+=("$wbus_pid")
page "$D/idle"
python3 - "$addr" 100 <<'PY' &
import asyncio, sys
host, port = sys.argv[1].rsplit(":", 1)
async def one():
    r, w = await asyncio.open_connection(host, int(port))
    w.write(f"GET /events HTTP/1.1\r\nHost: {sys.argv[1]}\r\nAccept: text/event-stream\r\n\r\n".encode())
    while await r.read(4096):
        pass
async def main():
    await asyncio.gather(*[one() for _ in range(int(sys.argv[2]))])
asyncio.run(main())
PY
pids+=($!)
names=("qsnap serve" "qwatch --store" "qwatch --bus" "qwhatif serve --http, 100 streams")
watch_pids=("$serve_pid" "$wstore_pid" "$wbus_pid" "$page_pid")
if [ -n "${OLD:-}" ]; then
	"$OLD/qwatch" -q --store "$D/idle/store" --state "$D/idle/cp-old" qplan raw -- true 2>"$D/idle/w3.log" &
	pids+=($!)
	names+=("qwatch --store, before (polling every 2 ms)")
	watch_pids+=($!)
fi
sleep 5 # started and settled: the catch-ups ran
idle_load=$(load)
idle=$(python3 - "$IDLE" "${watch_pids[@]}" <<'PY'
import glob, json, os, sys, time
secs, pids = float(sys.argv[1]), sys.argv[2:]
tick = os.sysconf("SC_CLK_TCK")
def sample(pid):
    """CPU seconds of the process, and each thread's voluntary switches."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick
    vol = {}
    for st in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(st) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol[st] = int(line.split()[1])
        except FileNotFoundError:
            pass
    return cpu, vol
def woke(b, a):
    # Threads that ended meanwhile are not counted (their last switches
    # are lost); threads that started count whole.
    return sum(n - b.get(t, 0) for t, n in a.items())
before = {p: sample(p) for p in pids}
time.sleep(secs)
after = {p: sample(p) for p in pids}
per_min = 60 / secs
print(json.dumps([[round((after[p][0] - before[p][0]) * per_min, 3),
                   round(woke(before[p][1], after[p][1]) * per_min)] for p in pids]))
PY
)

field() { # field JSON KEY...: a value inside JSON (keys, or indexes)
	python3 -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[int(k)] if k.isdigit() else v[k]
print(v)' "$@"
}
{
	echo "## The live page (issue 22; $(date -u +%Y-%m-%d), $(nproc) cores, release build)"
	echo
	echo "| case | target | measured | load (1/5/15 min) |"
	echo "|---|---|---|---|"
	if [ "$(field "$dom" skipped 2>/dev/null || true)" = "no chromium" ]; then
		echo "| put → DOM updated in headless Chromium | p95 < 200 ms | skipped: no chromium | $dom_load |"
	else
		echo "| put returned → DOM updated in headless Chromium, p50 / p95 / max of $N puts (form text kept: $(field "$dom" kept)) | p95 < 200 ms | $(field "$dom" from_put_return_ms p50) / $(field "$dom" from_put_return_ms p95) / $(field "$dom" from_put_return_ms max) ms | $dom_load |"
		echo "| the same from the put's start (the qsnap process included) | | $(field "$dom" from_put_start_ms p50) / $(field "$dom" from_put_start_ms p95) / $(field "$dom" from_put_start_ms max) ms | |"
	fi
	echo "| GET / under 500 event streams + 300 slowloris (a header byte every 3 s), p50 / p95 / max of 50 | < 100 ms | $(field "$crowd" get_ms p50) / $(field "$crowd" get_ms p95) / $(field "$crowd" get_ms max) ms | $crowd_load |"
	echo "| the server meanwhile: threads, resident memory (before → under the load); connections open at the end | bounded | $(field "$crowd" threads 0) → $(field "$crowd" threads 1) threads, $(field "$crowd" rss_kib 0) → $(field "$crowd" rss_kib 1) KiB; $(field "$crowd" sse_open) streams, $(field "$crowd" slow_open) slow open | |"
	for i in "${!names[@]}"; do
		echo "| idle ${IDLE} s: ${names[$i]}: CPU s / min, wake-ups / min | < 0.05 s / min | $(field "$idle" "$i" 0) s, $(field "$idle" "$i" 1) | $idle_load |"
	done
	echo
}
