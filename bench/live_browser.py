#!/usr/bin/env python3
"""Put -> DOM updated in headless Chromium (issue 22).

    bench/live_browser.py CHROMIUM URL STORE RESULTS N

Opens URL (a `qwhatif serve --http` page on STORE) in headless Chromium,
driven over the DevTools protocol on a pipe (fds 3 and 4, as the tests
do), types a what-if into the form, then N times: arms a promise on the
page's `qw-updated` event (fired once the new report is in place), puts a
new version of RESULTS (one item renamed, so every put is new data) with
`qsnap put qplan results`, and reads the time the page says the DOM was
updated. Prints one line of JSON: p50, p95 and max in ms from the put's
return (the commit exists) to the DOM updated, the same from the put's
start, and whether the form text and `window` survived every update (no
reload).
"""
import json
import os
import subprocess
import sys
import threading
import time
import queue

chromium, url, store, results_path, n = sys.argv[1:6]
n = int(n)
profile = os.path.join(os.path.dirname(store.rstrip("/")), "chromium-profile")

to_child_r, to_child_w = os.pipe()
from_child_r, from_child_w = os.pipe()
os.dup2(to_child_r, 103)
os.dup2(from_child_w, 104)


def fds():
    os.dup2(103, 3)
    os.dup2(104, 4)


proc = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
     "--window-size=1200,1600", "--remote-debugging-pipe",
     f"--user-data-dir={profile}", url],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    pass_fds=(3, 4, 103, 104), preexec_fn=fds)
for fd in (to_child_r, from_child_w, 103, 104):
    os.close(fd)
out = os.fdopen(to_child_w, "wb", buffering=0)
answers = queue.Queue()


def reader():
    buf = b""
    with os.fdopen(from_child_r, "rb", buffering=0) as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                try:
                    answers.put(json.loads(msg))
                except ValueError:
                    pass


threading.Thread(target=reader, daemon=True).start()
next_id = [0]


def call(method, params=None, session=None, timeout=30):
    next_id[0] += 1
    i = next_id[0]
    msg = {"id": i, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    out.write(json.dumps(msg).encode() + b"\0")
    end = time.time() + timeout
    while True:
        m = answers.get(timeout=max(0.01, end - time.time()))
        if m.get("id") == i:
            if "error" in m:
                raise RuntimeError(f"{method}: {m['error']}")
            return m["result"]


try:
    end = time.time() + 30
    while True:
        targets = call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        if page:
            break
        if time.time() > end:
            sys.exit("no page in chromium")
        time.sleep(0.05)
    session = call("Target.attachToTarget", {"targetId": page[0]["targetId"], "flatten": True})["sessionId"]

    def ev(js, wait=False):
        r = call("Runtime.evaluate", {"expression": js, "returnByValue": True, "awaitPromise": wait},
                 session, timeout=60)
        if "exceptionDetails" in r:
            return None
        return r["result"].get("value")

    end = time.time() + 60
    while ev("document.readyState === 'complete' && document.getElementById('qw-top') && "
             "document.getElementById('qw-top').getAttribute('data-live') === 'open'") is not True:
        if time.time() > end:
            sys.exit("the page did not open its event stream")
        time.sleep(0.05)
    ev("window.qwMark = 1; document.getElementById('qw-script').value = 'end 2013-12-13'; true")
    base = open(results_path).read()
    env = dict(os.environ, QSNAP_FSYNC="0")
    from_end, from_start = [], []
    for i in range(1, n + 1):
        data = base.replace("\tLogin rewrite\t", f"\tLogin rewrite v{i}\t")
        ev("window.qwNext = new Promise(function(r){document.addEventListener('qw-updated',"
           "function(){r(Date.now());},{once:true});}); true")
        t0 = time.time()
        subprocess.run(["qsnap", "--store", store, "-q", "put", "qplan", "results"],
                       input=data.encode(), stdout=subprocess.DEVNULL, check=True, env=env)
        t1 = time.time()
        shown = ev("window.qwNext", wait=True)
        from_end.append(shown - t1 * 1000)
        from_start.append(shown - t0 * 1000)
        # Let the page settle as a reader would between two puts.
        time.sleep(0.1)
    kept = ev("JSON.stringify([window.qwMark, document.getElementById('qw-script').value, "
              "document.querySelectorAll('section.track').length])")

    def q(xs, p):
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 1)

    print(json.dumps({
        "puts": n,
        "from_put_return_ms": {"p50": q(from_end, 0.5), "p95": q(from_end, 0.95), "max": round(max(from_end), 1)},
        "from_put_start_ms": {"p50": q(from_start, 0.5), "p95": q(from_start, 0.95), "max": round(max(from_start), 1)},
        "kept": kept,
    }))
finally:
    proc.kill()
    proc.wait()
