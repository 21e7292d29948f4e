#!/usr/bin/env bash
# The bus (issue 11): `qsnap serve` on ipc sockets over a throwaway store,
# measured by examples/bus_bench.rs (see its doc): a burst of N events
# through the service with every gap detected and resynced (goal
# >= 10,000/s), local put -> event latency, PUTs per second over the bus.
# BUS_EVENTS sets the burst's size (default 50,000).
# Run by bench/run.sh after its release build; prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${BUS_EVENTS:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
QSNAP_FSYNC=0 "$R/examples/bus_bench" "$R/qsnap" "$work/bus" "$N" >bench/out/bus.txt
v() { awk -v k="$1" '$1 == k { print $2 }' bench/out/bus.txt; }
echo "## bus ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), QSNAP_FSYNC=0, load average $(cut -d' ' -f1 /proc/loadavg) at the end)"
echo
echo "| case | goal | measured |"
echo "|---|---|---|"
echo "| burst of $(v burst_events) events through qsnap serve, every gap detected (subscriber resyncs with HEADS) | ≥ 10,000/s | $(v burst_events_per_second)/s ($(v burst_seconds) s; $(v burst_received) received, $(v burst_gaps_detected) gaps detected, $(v burst_resyncs) resyncs; the service used $(v burst_service_cpu_seconds) s of CPU: $(v burst_events_per_cpu_second) events per CPU second) |"
echo "| local put → event received, p50 / p99 (200 puts) | | $(v local_put_to_event_p50_ms) / $(v local_put_to_event_p99_ms) ms |"
echo "| PUTs over the bus (300, each a commit), fresh store | | $(v bus_puts_per_second)/s (the same puts made locally: $(v local_puts_per_second)/s) |"
echo
