#!/bin/sh
# The store under maintenance (issue 24), full size: WRITERS writers x PUTS
# puts each (default 4 x 50) while a loop runs `git gc`, `git gc
# --aggressive --prune=now`, `git pack-refs --all` and `qsnap maintenance`
# one after the other, without a pause, until the writers are done.
#
# Counts, for bench/RESULTS.md: puts that reported a commit which is in
# `qsnap log` afterwards, puts that failed with 75 (temporary, nothing
# stored), anything else (a put failing otherwise, or a reported commit
# missing from the log: both bugs), the maintenance rounds, and whether
# `qsnap verify` and `git fsck` pass at the end.
#
# Usage: bench/maintenance.sh [WRITERS [PUTS]]   (from the repository root)
set -eu
. bench/lib.sh
WRITERS=${1:-4}
PUTS=${2:-50}
Q=${QSNAP:-$R/qsnap}
[ -x "$Q" ] || { echo "bench: build first: cargo build --release --bin qsnap" >&2; exit 1; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
S=$D/store
mkdir "$D/out"
printf '=====t v1\n\tseed\n=====end\n' | "$Q" --repo "$S" put qplan seed >/dev/null
touch "$D/running"
(
	i=0
	while [ -e "$D/running" ]; do
		case $((i % 4)) in
		0) git --git-dir "$S" gc -q ;;
		1) git --git-dir "$S" gc -q --aggressive --prune=now ;;
		2) git --git-dir "$S" pack-refs --all ;;
		3) "$Q" --repo "$S" maintenance -q ;;
		esac >/dev/null 2>&1 || true
		i=$((i + 1))
		echo $i >"$D/rounds"
	done
) &
LOOP=$!
start=$(date +%s)
w=1
while [ $w -le "$WRITERS" ]; do
	(
		i=1
		while [ $i -le "$PUTS" ]; do
			rc=0
			printf '=====t v1\n\twriter %s put %s\n=====end\n' $w $i |
				"$Q" --repo "$S" put team "w$w" >"$D/out/$w.$i.out" 2>"$D/out/$w.$i.err" || rc=$?
			echo $rc >"$D/out/$w.$i.rc"
			i=$((i + 1))
		done
	) &
	eval "W$w=\$!"
	w=$((w + 1))
done
w=1
while [ $w -le "$WRITERS" ]; do
	eval "wait \$W$w"
	w=$((w + 1))
done
end=$(date +%s)
rm "$D/running"
wait $LOOP
"$Q" --repo "$S" log --format json >"$D/log.json"
ok=0 temp=0 bad=0
for f in "$D"/out/*.rc; do
	b=${f%.rc}
	case $(cat "$f") in
	0)
		if grep -q "\"$(cat "$b.out")\"" "$D/log.json"; then ok=$((ok + 1)); else
			bad=$((bad + 1))
			echo "lost: $(basename "$b") reported $(cat "$b.out")"
		fi
		;;
	75)
		temp=$((temp + 1))
		[ -s "$b.out" ] && { bad=$((bad + 1)); echo "75 with a commit printed: $(basename "$b")"; }
		echo "75: $(cat "$b.err")"
		;;
	*)
		bad=$((bad + 1))
		echo "exit $(cat "$f"): $(basename "$b"): $(cat "$b.err")"
		;;
	esac
done
commits=$(git --git-dir "$S" rev-list --count main)
verify=passed
"$Q" --repo "$S" verify >/dev/null 2>&1 || verify=FAILED
fsck=passed
git --git-dir "$S" fsck --no-dangling >/dev/null 2>&1 || fsck=FAILED
echo "writers x puts: $WRITERS x $PUTS in $((end - start)) s, $(cat "$D/rounds") maintenance rounds"
echo "committed and in the log: $ok; failed with 75: $temp; other: $bad"
echo "commits on main: $commits (seed + committed: $((ok + 1)))"
echo "qsnap verify: $verify; git fsck: $fsck"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$bad" = 0 ] && [ "$verify" = passed ] && [ "$commits" = $((ok + 1)) ]
