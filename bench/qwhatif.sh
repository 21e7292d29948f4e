#!/usr/bin/env bash
# qwhatif on the judged 30,000-item shape (issue 12): one what-if against
# one qplan run (target < 2x), and a 20-scenario compare (target < 1 s).
# Run by bench/run.sh after its release build; prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
D=bench/data/qwhatif
mkdir -p bench/out "$D"
plan=bench/data/judged-30k.txt
[ -s "$plan" ] || "$R/examples/gen" plan 30000 3000 20 6 365 --sched 3 --dates text >"$plan"

# Twenty scenarios of every kind: items dropped, moved up, re-estimated,
# people added, moved and removed, the end moved, holidays added.
for i in $(seq 0 19); do
	case $((i % 5)) in
	0) echo "drop W$((i * 1000 + 7))" ;;
	1) echo "rank W$((i * 1000 + 3)) 100" ;;
	2) printf "add staff Hire track=Track%03d skill=Apps count=3\n" $((i % 20)) ;;
	3) echo "end 2026-12-$((10 + i % 10))" ;;
	4) printf 'holiday 2026-07-0%d\nestimate W%d Apps:4,Web:1\n' $((1 + i % 5)) $((i * 1000 + 11)) ;;
	esac >"$D/s$i.whatif"
done
scripts=$(for i in $(seq 0 19); do printf -- '-f %s ' "$D/s$i.whatif"; done)

plan_ms=$(median_ms qwhatif-qplan 20 "$R/qplan $plan > /dev/null")
drop_ms=$(median_ms qwhatif-drop 20 "$R/qwhatif 'drop W15000' $plan > /dev/null")
rank_ms=$(median_ms qwhatif-rank 20 "$R/qwhatif 'rank W20000 500' $plan > /dev/null")
hire_ms=$(median_ms qwhatif-hire 20 "$R/qwhatif 'add staff Hire track=Track001 skill=Apps count=3' $plan > /dev/null")
text_ms=$(median_ms qwhatif-text 20 "$R/qwhatif --format text 'drop W15000' $plan > /dev/null")
cmp=$(median qwhatif-compare 5 "$R/qwhatif compare $scripts $plan > /dev/null")
cmp_mem=$(peak_mib "$R/qwhatif compare $scripts $plan")
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$plan_ms"; }

echo "## qwhatif ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| case | target | median | × qplan |"
echo "|---|---|---|---|"
echo "| qplan, judged 30,000-item shape (the yardstick) | | ${plan_ms} ms | 1 |"
echo "| qwhatif 'drop W15000' | < 2× qplan | ${drop_ms} ms | $(ratio "$drop_ms") |"
echo "| qwhatif 'rank W20000 500' | < 2× qplan | ${rank_ms} ms | $(ratio "$rank_ms") |"
echo "| qwhatif 'add staff … count=3' | < 2× qplan | ${hire_ms} ms | $(ratio "$hire_ms") |"
echo "| qwhatif --format text 'drop W15000' | | ${text_ms} ms | $(ratio "$text_ms") |"
echo "| qwhatif compare, 20 scenarios | < 1 s | ${cmp} s (peak ${cmp_mem} MiB) | |"
echo
