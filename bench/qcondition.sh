#!/usr/bin/env bash
# qcondition: 100,000 work rows and 10,000 staff rows (target < 1 s), and
# --check of the result. Run by bench/run.sh after its release build;
# prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
D=bench/data/qcondition
mkdir -p bench/out "$D"


raw=$D/raw-100k.txt
[ -s "$raw" ] || python3 - >"$raw" <<'PY'
import random
random.seed(7)
tracks = ["T%02d" % i for i in range(20)]
skills = ["Apps", "Native", "Web", "QA", "Data", "Infra"]
w = print
w("=====raw staff")
w("\tId,Name,Team,Track,Role,Vacation")
for i in range(10000):
    vac = "2013-11-%02d..2013-11-%02d" % (4 + i % 10, 8 + i % 10) if i % 3 == 0 else ""
    w("\tp%05d,Person %d,Team %d,%s,%s,%s" % (i, i, i % 7, tracks[i % 20], skills[i % 6], vac))
w("=====raw work")
w("\tKey,Rank,Summary,Estimate,Triage,Track")
for i in range(100000):
    est = ",".join("%s:%s" % (s, random.choice(["1", "0.5", "2S", "M", "L", "1.25"]))
                   for s in random.sample(skills, 1 + i % 3))
    w('\tW-%06d,%d,Work item number %d,"%s",%s,%s' % (i, i + 1, i, est, random.choice(["1", "1.5", "2", "3", ""]), tracks[i % 20]))
w("=====end")
PY
map=$D/map.toml
cat >"$map" <<'TOML'
[params]
start = "2013-10-07"
end = "2013-12-20"
skills = "Apps:Native:Web"
[staff]
source = "staff"
layout = "table"
id = "Id"
name = "Name"
team = "Team"
track = "Track"
skill = { column = "Role", rename = { "Server" = "Apps" } }
vacation = "Vacation"
[work]
source = "work"
id = "Key"
rank = "Rank"
name = { column = "Summary", skip = ["^HOLE$"] }
estimate = "Estimate"
triage = "Triage"
track = "Track"
TOML
"$R/qcondition" --map "$map" "$raw" >"$D/conditioned.txt"

# The judged shape's raw sheets (examples/gen.rs `gen raw`): CSV with
# `Oct 7, 2013` dates, 100,000 work rows, 10,000 people; they condition
# into exactly what `gen plan` writes for the same arguments.
shape="100000 10000 20 6 365 --sched 3 --dates text"
judged=$D/judged-100k.raw.txt
[ -s "$judged" ] || "$R/examples/gen" raw $shape >"$judged"
"$R/examples/gen" map $shape >"$D/judged.toml"
"$R/qcondition" --map "$D/judged.toml" "$judged" >"$D/judged-100k.txt"
if ! "$R/examples/gen" plan $shape | cmp -s - "$D/judged-100k.txt"; then
	echo "bench: the judged raw sheets did not condition into gen plan's stream" >&2
	exit 1
fi
judged_t=$(median qcondition-judged-100k 10 "$R/qcondition --map $D/judged.toml $judged > /dev/null")
judged_mem=$(peak_mib "$R/qcondition --map $D/judged.toml $judged")
judged_mib=$(python3 -c 'import sys; print("%.1f" % (int(sys.argv[1]) / 1048576))' "$(stat -c %s "$judged")")

cond=$(median qcondition-100k 10 "$R/qcondition --map $map $raw > /dev/null")
cond_mem=$(peak_mib "$R/qcondition --map $map $raw")
check=$(median qcondition-check-100k 10 "$R/qcondition --check $D/conditioned.txt > /dev/null")
check_mem=$(peak_mib "$R/qcondition --check $D/conditioned.txt")

{
	echo "## qcondition ($(date -u +%Y-%m-%d), $(nproc) cores)"
	echo
	echo "| case | target | median | peak memory |"
	echo "|---|---|---|---|"
	echo "| --map: 100,000 work rows + 10,000 staff rows (CSV, $(($(stat -c %s "$raw") / 1048576)) MiB) | < 1 s | ${cond} s | ${cond_mem} MiB |"
	echo "| --check of the conditioned result | | ${check} s | ${check_mem} MiB |"
	echo "| --map: judged shape, 100,000 work rows + 10,000 staff rows (CSV, \`Oct 7, 2013\` dates, ${judged_mib} MiB) | < 0.3 s, a small multiple of the input | ${judged_t} s | ${judged_mem} MiB |"
	echo
}
