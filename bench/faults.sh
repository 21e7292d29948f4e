#!/usr/bin/env bash
# `make bench-faults` (about a minute on 2 cores; apart from `make bench`): what
# issue 10's fault handling costs and leaves, printed as Markdown:
# - fsync: a put of a 1 KB and of a 100 MB stream with fsync on (the
#   default) and off (QSNAP_FSYNC=0), each a new version;
# - kills: a 100 MB put killed with SIGKILL at random moments KILLS times
#   (default 20), then one put: the bytes of temporary files
#   (objects/streamed_git2_*, objects/tmp_object_git2_*) before and after;
# - qpull against an endless JIRA search (bench/jira_endless.py: a total of
#   10^9 announced on every page) with the default max_bytes: peak memory,
#   time, and how it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
D=bench/data/faults
mkdir -p "$D"
Q=$R/qsnap
KILLS=${KILLS:-20}

small=$D/small.txt
python3 -c 'import sys; sys.stdout.write("=====test data v1\n" + "".join("\tline %02d of a one kilobyte stream, padded....\n" % i for i in range(20)))' >"$small"
big=$D/big-100mb.txt
[ -s "$big" ] || python3 -c '
import sys
w = sys.stdout.write
w("=====test data v1\n")
for i in range(1000000): w("\t%09d %s\n" % (i, "y" * 88))' >"$big"
# Each run appends a line: every put is a new version (an unchanged one
# writes no object, so there would be nothing to flush).
bump() { echo "echo \"	\$(date +%s%N)\" >> $1"; }
fs=$(df -T "$D" | awk 'NR == 2 { print $2 }')

store=$D/fsync-store
rm -rf "$store"
"$Q" --repo "$store" -q init
small_on=$(median_ms fsync-small-on 30 "$Q --repo $store -q put qplan small $small > /dev/null" --prepare "$(bump "$small")")
small_off=$(median_ms fsync-small-off 30 "QSNAP_FSYNC=0 $Q --repo $store -q put qplan small $small > /dev/null" --prepare "$(bump "$small")")
big_on=$(median fsync-big-on 5 "$Q --repo $store -q put qplan big $big > /dev/null" --prepare "$(bump "$big")")
big_off=$(median fsync-big-off 5 "QSNAP_FSYNC=0 $Q --repo $store -q put qplan big $big > /dev/null" --prepare "$(bump "$big")")
rm -rf "$store"

# Kills at random moments over 1.2 times a whole put's duration.
store=$D/kill-store
rm -rf "$store"
"$Q" --repo "$store" -q init
temp_bytes() {
	find "$store/objects" -maxdepth 2 -type f \( -name 'streamed_git2_*' -o -name 'tmp_object_git2_*' \) -printf '%s\n' |
		awk '{ n++; s += $1 } END { printf "%d files, %d bytes", n, s }'
}
for _ in $(seq "$KILLS"); do
	"$Q" --repo "$store" -q put qplan raw <"$big" >/dev/null 2>&1 &
	pid=$!
	sleep "$(python3 -c 'import random, sys; print(round(random.uniform(0.02, 1.2 * float(sys.argv[1])), 3))' "$big_on")"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eval "$(bump "$big")"
done
kill_commits=$(git --git-dir "$store" rev-list --count main 2>/dev/null || echo 0)
before=$(temp_bytes)
"$Q" --repo "$store" -q put qplan raw <"$big" >/dev/null
after=$(temp_bytes)
fsck=$(git --git-dir "$store" fsck --full --strict >/dev/null 2>&1 && echo clean || echo errors)
rm -rf "$store"

# qpull against the endless search.
port_file=$D/jira.port
rm -f "$port_file"
python3 bench/jira_endless.py >"$port_file" &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
cat >"$D/endless.toml" <<TOML
[source.work]
type = "jira"
url = "http://127.0.0.1:$(cat "$port_file")/rest/api/2/search"
jql = "project = MOB"
retries = 0
TOML
set +e
/usr/bin/time -f '%M %e' -o "$D/qpull.time" "$R/qpull" --config "$D/endless.toml" >/dev/null 2>"$D/qpull.err"
qpull_code=$?
set -e
kill "$srv" 2>/dev/null || true
read -r qpull_kib qpull_s < <(tail -n 1 "$D/qpull.time")
qpull_said=$(head -n 1 "$D/qpull.err" | sed "s/127.0.0.1:[0-9]*/127.0.0.1:PORT/")

{
	echo "## Faults (issue 10) ($(date -u +%Y-%m-%d), $(nproc) cores, store on $fs)"
	echo
	echo "| case | fsync on (default) | fsync off (\`QSNAP_FSYNC=0\`) |"
	echo "|---|---|---|"
	echo "| put of a 1 KB stream (median of 30) | ${small_on} ms | ${small_off} ms |"
	echo "| put of a 100 MB stream (median of 5) | ${big_on} s | ${big_off} s |"
	echo
	echo "| kill test: 100 MB put killed at random moments, ${KILLS} times | |"
	echo "|---|---|"
	echo "| commits made by the puts that finished before their kill | ${kill_commits} |"
	echo "| temporary files left by the kills | ${before} |"
	echo "| after one more put | ${after} |"
	echo "| \`git fsck --full --strict\` | ${fsck} |"
	echo
	echo "| qpull, endless JIRA search (total 10^9), default max_bytes | |"
	echo "|---|---|"
	echo "| peak memory | $((qpull_kib / 1024)) MiB |"
	echo "| time to fail | ${qpull_s} s |"
	echo "| exit status | ${qpull_code} |"
	echo "| its error | ${qpull_said} |"
	echo
}
