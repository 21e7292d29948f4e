#!/usr/bin/env bash
# qpull: a 50 MB CSV from a local HTTP server (127.0.0.1, an ephemeral
# port) and from a file: time and peak memory. Run by bench/run.sh after its
# release build; prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
D=bench/data/qpull
mkdir -p bench/out "$D"


csv=$D/work-50mb.csv
[ -s "$csv" ] || python3 -c '
import sys
w = sys.stdout.write
w("Key,Rank,Summary,Estimate,Triage,Track\n")
i = 0
while i < 700000:
    w("W-%07d,%d,Work item number %d of the big export,\"Apps:1,Web:2S\",2,Tenor\n" % (i, i, i))
    i += 1' >"$csv"

# A throwaway server on port 0; it writes the port it got, and is stopped
# when the script ends.
python3 - "$D" >"$D/port" <<'PY' &
import http.server, functools, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
class Quiet(handler.func):
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$D/port")/work-50mb.csv"
cfg=$D/sources.toml
printf '[defaults]\nmax_bytes = 100000000\n[source.work]\nurl = "%s"\n' "$url" >"$cfg"

http=$(median qpull-http-50mb 5 "$R/qpull --config $cfg > /dev/null")
http_mem=$(peak_mib "$R/qpull --config $cfg")
file=$(median qpull-file-50mb 5 "$R/qpull --config $cfg work=file:$csv > /dev/null")
file_mem=$(peak_mib "$R/qpull --config $cfg work=file:$csv")
curl_t=$(median curl-50mb 5 "curl -s $url > /dev/null")

{
	echo "## qpull ($(date -u +%Y-%m-%d), $(nproc) cores)"
	echo
	echo "| case | median | peak memory |"
	echo "|---|---|---|"
	echo "| 50 MB CSV over HTTP from 127.0.0.1 (Python http.server) | ${http} s | ${http_mem} MiB |"
	echo "| the same CSV from a file | ${file} s | ${file_mem} MiB |"
	echo "| baseline: curl of the same URL | ${curl_t} s | |"
	echo
}
