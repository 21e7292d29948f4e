# Shared by the bench scripts (sourced, not run): timings with hyperfine,
# peak memory with GNU time, installing both when missing.

need() { # need COMMAND DEBIAN-PACKAGE
	command -v "$1" >/dev/null 2>&1 && return
	echo "bench: installing $2" >&2
	{ apt-get update -qq && apt-get install -y -qq "$2"; } >/dev/null
}
need hyperfine hyperfine
[ -x /usr/bin/time ] || need time time
mkdir -p bench/out

# R: where cargo puts release binaries, honouring CARGO_TARGET_DIR and
# build.target-dir (the Makefile passes it down as QPLAN_RELEASE).
R=${QPLAN_RELEASE:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release}

# median NAME RUNS COMMAND [HYPERFINE OPTIONS...]: the median in seconds
# (three decimals); the run is kept in bench/out/NAME.json.
median() {
	local name=$1 runs=$2 cmd=$3
	shift 3
	hyperfine --style none --warmup 1 --runs "$runs" "$@" --export-json "bench/out/$name.json" "$cmd" >/dev/null 2>&1
	python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "bench/out/$name.json"
}

# median_ms: the same, in milliseconds (two decimals).
median_ms() {
	median "$@" >/dev/null
	python3 -c 'import json,sys; print("%.2f" % (1000 * json.load(open(sys.argv[1]))["results"][0]["median"]))' "bench/out/$1.json"
}

# peak_mib COMMAND: the peak resident memory of a command, in MiB.
peak_mib() {
	/usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }'
}
