#!/usr/bin/env bash
# qplan blame (issue 23) over 200 stored versions of the judged
# 30,000-item plan (target < 2 s). Each version re-estimates one item
# (a different one each time) in the conditioned input and runs the real
# pipeline: qsnap put conditioned, qplan, qsnap put results (with
# provenance). Blamed: W20000, moved by many of those. Run after the
# release build (bench/run.sh does it); prints a Markdown section.
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
moves=$("$R/qplan" blame W20000 --store "$S" | awk '/^=====qplan blame v1/ { on = 1; next } /^=====/ { on = 0 } on { print $1 }' | sort -u | wc -l)
echo "| qplan blame W20000, 200 versions of the 30,000-item plan ($moves versions where it moved) | < 2 s | ${blame} s |"
