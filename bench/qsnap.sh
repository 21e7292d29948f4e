#!/usr/bin/env bash
# qsnap against the git command line doing the same work (issue 3):
# - put of a 1 MB stream vs `git add` + `git commit` in a work tree;
# - get at a random one of 10,000 revisions vs `git show REV:path`;
# - log of one resource over 10,000 commits (target < 200 ms).
# Run by bench/run.sh after its release build; prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
D=bench/data/qsnap
mkdir -p bench/out "$D"


# A store with 10,000 puts of one resource (1 KB each), made with
# git fast-import for speed: the same commits and trailers qsnap writes.
store=$D/store-10k
if [ ! -s "$D/revs.txt" ]; then
	rm -rf "$store"
	git init -q --bare -b main "$store"
	python3 - <<'PY' | git --git-dir "$store" fast-import --quiet
import sys
out = sys.stdout.buffer
for i in range(10000):
    body = "=====test data v1\n" + "".join("\tversion %d line %d\n" % (i, j) for j in range(40)) + "=====end\n"
    data = body.encode()
    msg = b"put qplan raw\n\nQsnap-Resource: qplan raw\n"
    t = 1700000000 + 60 * i
    out.write(b"commit refs/heads/main\n")
    out.write(b"committer qsnap <qsnap@localhost> %d +0000\n" % t)
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    out.write(b"M 100644 inline raw/qplan.txt\ndata %d\n%s\n" % (len(data), data))
PY
	git --git-dir "$store" rev-list main >"$D/revs.txt"
fi
rev=$(shuf -n 1 --random-source=<(yes) "$D/revs.txt")

# 1 MB stream; every run appends a line, so every put is a new version.
put=$D/put-1mb.txt
python3 -c '
import sys
sys.stdout.write("=====test data v1\n" + "".join("\tline %07d of a one megabyte stream.....\n" % i for i in range(22000)))' >"$put"
bump="echo \"	\$(date +%s%N)\" >> $put"
qs_store=$D/put-store
git_tree=$D/put-tree
rm -rf "$qs_store" "$git_tree"
"$R/qsnap" --repo "$qs_store" -q init
git init -q -b main "$git_tree"
mkdir -p "$git_tree/raw"
git -C "$git_tree" config user.name bench
git -C "$git_tree" config user.email bench@localhost

put_q=$(median_ms qsnap-put 30 "$R/qsnap --repo $qs_store put qplan raw $put > /dev/null" --prepare "$bump")
put_g=$(median_ms git-put 30 "cp $put $git_tree/raw/qplan.txt && git -C $git_tree add raw/qplan.txt && git -C $git_tree commit -q -m put" --prepare "$bump")
get_q=$(median_ms qsnap-get 30 "$R/qsnap --repo $store get qplan raw --at $rev > /dev/null")
get_g=$(median_ms git-get 30 "git --git-dir $store show $rev:raw/qplan.txt > /dev/null")
start_q=$(median_ms qsnap-start 50 "$R/qsnap --version > /dev/null")
start_t=$(median_ms true-start 50 "/bin/true")
log_q=$(median_ms qsnap-log 10 "$R/qsnap --repo $store log qplan raw > /dev/null")
log_g=$(median_ms git-log 10 "git --git-dir $store log --format='%H %ct %s' -- raw/qplan.txt > /dev/null")

# Memory of a put and a get of a large stream (200 MB).
big=$D/big-200mb.txt
[ -s "$big" ] || python3 -c '
import sys
w = sys.stdout.write
w("=====test data v1\n")
line = "\t" + "x" * 99 + "\n"
for i in range(2000000): w(line)
w("=====end\n")' >"$big"
big_store=$D/big-store
rm -rf "$big_store"
put_mem=$(peak_mib "$R/qsnap --repo $big_store put qplan raw < $big")
get_mem=$(peak_mib "$R/qsnap --repo $big_store get qplan raw")

{
	echo "## qsnap ($(date -u +%Y-%m-%d), $(nproc) cores, git $(git --version | cut -d' ' -f3))"
	echo
	echo "| case | target | qsnap | git CLI |"
	echo "|---|---|---|---|"
	echo "| put of a 1 MB stream (git: cp + add + commit) | ≤ ½ git | ${put_q} ms | ${put_g} ms |"
	echo "| get at a random one of 10,000 revisions (git: show REV:path) | ≤ ½ git | ${get_q} ms | ${get_g} ms |"
	echo "| log of one resource over 10,000 commits | < 200 ms | ${log_q} ms | ${log_g} ms (log -- path) |"
	echo "| process start alone (\`qsnap --version\`; \`/bin/true\` on the git side) | | ${start_q} ms | ${start_t} ms |"
	echo "| peak memory, put of a 200 MB stream from a pipe | | ${put_mem} MiB | |"
	echo "| peak memory, get of that stream | | ${get_mem} MiB | |"
	echo
}
