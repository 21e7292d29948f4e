#!/usr/bin/env bash
# qwatch (issue 11), release build, on loopback:
# - put -> handler start: a put (qsnap put, one process), then the time
#   until qwatch's command (`date +%s%N`, run without a shell) starts;
#   one put at a time, each after the previous run ended, so nothing
#   coalesces; with --repo (main polled every 2 ms) and with the bus
#   (qsnap serve on ipc sockets);
# - the fixture chain: raw put -> results committed, by qwatch running
#   fixtures/quarter/chain.toml (qcondition, qplan, two gets, two puts).
# Run by bench/run.sh after its release build; prints a Markdown section.
# N=... and CHAIN=... change the number of samples.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
D=$(mktemp -d "${TMPDIR:-/tmp}/qwatch-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
export PATH="$R:$PATH" QSNAP_FSYNC=0
N=${N:-200}
CHAIN=${CHAIN:-30}

serve() { # serve STORE DIR: qsnap serve on ipc sockets in DIR
	qsnap --repo "$1" serve --rep "ipc://$2/rep" --pub "ipc://$2/pub" 2>"$2/serve.log" &
	pids+=($!)
	for _ in $(seq 200); do [ -S "$2/rep" ] && return; sleep 0.01; done
	echo "bench: qsnap serve did not start" >&2
	exit 1
}

# latency MODE: p50 and p99 in ms, put returned -> handler started.
latency() {
	local dir=$D/lat-$1 src
	mkdir -p "$dir"
	printf '=====t v1\n\t0\n=====end\n' | qsnap --repo "$dir/store" -q put t raw >/dev/null
	case $1 in
	repo) src=(--repo "$dir/store") ;;
	bus) serve "$dir/store" "$dir"; src=(--bus "ipc://$dir/rep") ;;
	esac
	qwatch -q "${src[@]}" --state "$dir/cp" t raw -- date +%s%N >"$dir/starts" 2>"$dir/qwatch.log" &
	pids+=($!)
	python3 - "$dir" "$N" <<'PY'
import os, subprocess, sys, time
d, n = sys.argv[1], int(sys.argv[2])
starts = os.path.join(d, "starts")
def count():
    try:
        with open(starts) as f:
            return f.read().split()
    except FileNotFoundError:
        return []
def wait(k):
    end = time.time() + 30
    while len(count()) < k:
        if time.time() > end:
            sys.exit("bench: no run after a put")
        time.sleep(0.0005)
wait(1)  # the catch-up
lat = []
for i in range(1, n + 1):
    data = "=====t v1\n\t%d\n=====end\n" % i
    subprocess.run(["qsnap", "--repo", d + "/store", "-q", "put", "t", "raw"],
                   input=data.encode(), stdout=subprocess.DEVNULL, check=True)
    done = time.time_ns()
    wait(i + 1)
    lat.append((int(count()[i]) - done) / 1e6)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("%.1f %.1f %.1f" % (q(0.5), q(0.99), lat[-1]))
PY
}

# chain MODE: median and p90 in ms, raw put started -> results committed.
chain() {
	local dir=$D/chain-$1 src
	mkdir -p "$dir"
	qsnap --repo "$dir/store" -q init
	case $1 in
	repo) src=(--repo "$dir/store") ;;
	bus) serve "$dir/store" "$dir"; src=(--bus "ipc://$dir/rep") ;;
	esac
	QSNAP_REPO=$dir/store qwatch -q "${src[@]}" --config fixtures/quarter/chain.toml >/dev/null 2>"$dir/qwatch.log" &
	pids+=($!)
	python3 - "$dir" "$CHAIN" <<'PY'
import os, subprocess, sys, time, zlib
d, n = sys.argv[1], int(sys.argv[2])
store = d + "/store"
raw = open("fixtures/quarter/raw.txt").read()
def main():
    try:
        with open(store + "/refs/heads/main") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""
def message(oid):
    with open("%s/objects/%s/%s" % (store, oid[:2], oid[2:]), "rb") as f:
        return zlib.decompress(f.read()).decode("utf-8", "replace")
def results_of(raw_commit):
    end = time.time() + 60
    while time.time() < end:
        m = main()
        if m:
            try:
                msg = message(m)
            except (FileNotFoundError, zlib.error):
                msg = ""
            if "Qsnap-Resource: qplan results" in msg and raw_commit in msg:
                return
        time.sleep(0.0005)
    sys.exit("bench: no results after a raw put")
took = []
for i in range(n + 1):
    # Every put changes the raw data, so every stage makes a new version.
    data = raw.replace("office closed", "office closed %d" % i, 1)
    t0 = time.time_ns()
    out = subprocess.run(["qsnap", "--repo", store, "put", "qplan", "raw"],
                         input=data.encode(), capture_output=True, check=True)
    results_of(out.stdout.decode().strip())
    if i:  # the first run warms the caches
        took.append((time.time_ns() - t0) / 1e6)
took.sort()
print("%.1f %.1f" % (took[len(took) // 2], took[min(len(took) - 1, int(0.9 * len(took)))]))
PY
}

read -r lr50 lr99 lrmax < <(latency repo)
read -r lb50 lb99 lbmax < <(latency bus)
read -r cr50 cr90 < <(chain repo)
read -r cb50 cb90 < <(chain bus)

{
	echo "## qwatch ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
	echo
	echo "| case | target | --repo (polling) | --bus (ipc) |"
	echo "|---|---|---|---|"
	echo "| put returned → handler started, p50 / p99 / max of $N | p99 < 20 ms | ${lr50} / ${lr99} / ${lrmax} ms | ${lb50} / ${lb99} / ${lbmax} ms |"
	echo "| fixture chain: raw put started → results committed, median / p90 of $CHAIN | < 200 ms | ${cr50} / ${cr90} ms | ${cb50} / ${cb90} ms |"
	echo
}
