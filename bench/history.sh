#!/usr/bin/env bash
# qplan blame (issue 23) over 200 stored versions of the judged
# 30,000-item plan (target < 2 s). Each version re-estimates one item
# (a different one each time) in the conditioned input and runs the real
# pipeline: qsnap put conditioned, qplan, qsnap put results (with
# provenance). Blamed: W20000 (it moves in few of them: the time is
# reading, whatever moved). Run after the release build (bench/run.sh
# does it); prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
plan=bench/data/judged-30k.txt
[ -s "$plan" ] || "$R/examples/gen" plan 30000 3000 20 6 365 --sched 3 --dates text >"$plan"
S=bench/data/store-blame-200
if [ ! -d "$S" ]; then
	rm -rf "$S.tmp"
	export QSNAP_FSYNC=0
	for i in $(seq 1 200); do
		awk -v id="W$(((i * 7919) % 30000))" -v est="Apps:$((i % 7 + 1))" \
			'BEGIN { FS = OFS = "\t" } $2 == id { $5 = est } 1' "$plan" |
			"$R/qsnap" --store "$S.tmp" -q put qplan conditioned >/dev/null
		"$R/qsnap" --store "$S.tmp" get qplan conditioned | "$R/qplan" |
			"$R/qsnap" --store "$S.tmp" -q put qplan results >/dev/null
	done
	mv "$S.tmp" "$S"
fi
blame=$(median history-blame 5 "$R/qplan blame W20000 --store $S > /dev/null")
# CPU (user + system, hyperfine's means) and the load while it ran: on a
# shared machine the wall time is mostly waiting for a core.
cpu=$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.2f" % (r["user"] + r["system"]))' bench/out/history-blame.json)
load=$(cut -d' ' -f1 /proc/loadavg)
moves=$("$R/qplan" blame W20000 --store "$S" | awk '/^=====qplan blame v1/ { on = 1; next } /^=====/ { on = 0 } on { print $1 }' | sort -u | wc -l)
echo "| qplan blame W20000, 200 versions of the 30,000-item plan ($moves versions where it moved) | < 2 s | ${blame} s (CPU ${cpu} s, load ${load}) |"
# qsnap replay (issue 23) of the same 200 versions of the conditioned
# input through qplan (target < 20 s, qplan's own time dominating): every
# version run again (--force), on a copy of the store. A --force run that
# makes the same outputs makes the same commits, so each timed run does
# the whole work and leaves the replay as it was.
RS=bench/data/store-replay-200
rm -rf "$RS" && cp -r "$S" "$RS"
QSNAP_FSYNC=0 "$R/qsnap" --store "$RS" -q replay qplan conditioned results --name bench -- "$R/qplan" -q >/dev/null
replay=$(median history-replay 3 "QSNAP_FSYNC=0 $R/qsnap --store $RS -q replay qplan conditioned results --name bench --force -- $R/qplan -q > /dev/null")
versions=$("$R/qsnap" --store "$RS" log qplan results --replay bench | grep -c 'replay bench')
one=$(median history-qplan-one 5 "$R/qsnap --store $RS get qplan conditioned | $R/qplan -q > /dev/null")
echo "| qsnap replay, $versions versions of the 30,000-item plan through qplan (qsnap get + qplan of one version: ${one} s) | < 20 s | ${replay} s |"
# The same with outputs the store does not hold yet (every version's end
# date a month later, so every result is new: each is written and
# compressed), on a fresh copy of the store for each run.
later="sed 's/^\t2026-01-05\t2027-01-04\t/\t2026-01-05\t2027-02-01\t/' | $R/qplan -q"
fresh=$(median history-replay-new 3 "QSNAP_FSYNC=0 $R/qsnap --store $RS -q replay qplan conditioned results --name later -- sh -c \"$later\" > /dev/null" --prepare "rm -rf $RS && cp -r $S $RS")
echo "| qsnap replay, the same $versions versions through sed (end date a month later) and qplan: every output new | | ${fresh} s |"
rm -rf "$RS"
