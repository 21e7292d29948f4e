#!/usr/bin/env bash
# `make bench`: release build, synthetic inputs from examples/gen.rs, and
# timings (median of several runs, hyperfine) with peak memory (GNU time).
# Prints a Markdown report; copy the figures into bench/RESULTS.md.
# Inputs are cached under bench/data (ignored by git); delete it to regenerate.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

cargo build --quiet --release --bins --examples
mkdir -p bench/data bench/out
gen() { # gen FILE ARGS...
	local file=bench/data/$1
	shift
	[ -s "$file" ] || "$R/examples/gen" "$@" >"$file"
}
gen plan-30k.txt plan 30000 3000 20 6 365
gen plan-1m.txt plan 1000000 50000 50 8 365
gen stream-500mb.txt stream 500

# median seconds of a command, from hyperfine's JSON

q30=$(median qplan-30k 20 "$R/qplan bench/data/plan-30k.txt > /dev/null")
q1m=$(median qplan-1m 5 "$R/qplan bench/data/plan-1m.txt > /dev/null")
q1m_mem=$(peak_mib "$R/qplan bench/data/plan-1m.txt")
copy=$(median stream-copy 5 "$R/examples/stream_copy < bench/data/stream-500mb.txt > /dev/null")
copy_pipe=$(median stream-copy-pipe 5 "$R/examples/stream_copy < bench/data/stream-500mb.txt | cat > /dev/null")
cat_pipe=$(median cat-pipe 5 "cat bench/data/stream-500mb.txt | cat > /dev/null")
size=$(stat -c %s bench/data/stream-500mb.txt)
rate() { python3 -c 'import sys; print("%.2f" % (int(sys.argv[1]) / float(sys.argv[2]) / 1e9))' "$size" "$1"; }

{
	echo "## qplan ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))"
	echo
	echo "| case | target | median | peak memory |"
	echo "|---|---|---|---|"
	echo "| qplan 30,000 items / 3,000 people / 20 tracks / 6 skills / 365 days | < 70 ms | ${q30} s | |"
	echo "| qplan 1,000,000 items / 50,000 people / 50 tracks / 8 skills / 365 days | < 3 s, < 1 GiB | ${q1m} s | ${q1m_mem} MiB |"
	echo "| stream read+write, 500 MB file to /dev/null | ≥ 1 GB/s | ${copy} s ($(rate "$copy") GB/s) | |"
	echo "| same through a pipe (\`| cat\`) | | ${copy_pipe} s ($(rate "$copy_pipe") GB/s) | |"
	echo "| baseline: \`cat | cat\` of the same file | | ${cat_pipe} s ($(rate "$cat_pipe") GB/s) | |"
	echo
} | tee bench/out/qplan.md

# The other tools' benchmarks, each a script printing its own section.
for script in bench/*.sh; do
	case $script in bench/run.sh | bench/lib.sh) continue ;; esac
	bash "$script" | tee "bench/out/$(basename "$script" .sh).md"
done
