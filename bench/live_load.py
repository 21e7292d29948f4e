#!/usr/bin/env python3
"""Many browsers and slow ones against `qwhatif serve --http` (issue 22).

    bench/live_load.py HOST:PORT PID [--sse 500] [--slow 300] [--gets 50]

Opens SSE streams (`GET /events`, read and kept open) and slowloris
connections (a request line, then one header byte every --drip seconds,
never finishing), then times --gets plain `GET /` requests (a fresh
connection each, one at a time, headers to the last byte of the body).
Prints one line of JSON: the GET / latencies (p50, p95, max in ms), how
many streams and slow connections were still open at the end, the server's
threads and resident memory (from /proc/PID) before and under the load,
and how many slow connections the server closed (its read deadline).
"""
import argparse
import asyncio
import json
import time


def proc(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Threads", "VmRSS"):
                out[k] = int(v.split()[0])
    return out


async def sse(host, port, opened, alive):
    try:
        r, w = await asyncio.open_connection(host, port)
    except OSError:
        return
    w.write(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await w.drain()
    opened.append(1)
    alive[0] += 1
    try:
        while await r.read(4096):
            pass
    except OSError:
        pass
    alive[0] -= 1


async def slow(host, port, drip, closed, alive):
    try:
        r, w = await asyncio.open_connection(host, port)
    except OSError:
        return
    alive[0] += 1
    try:
        w.write(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode())
        await w.drain()
        while True:
            await asyncio.sleep(drip)
            w.write(b"a")
            await w.drain()
            # The server may have answered (408) and closed.
            try:
                data = await asyncio.wait_for(r.read(1), 0.001)
                if data == b"" or data:
                    raise ConnectionResetError
            except asyncio.TimeoutError:
                pass
    except (OSError, ConnectionResetError):
        closed[0] += 1
    alive[0] -= 1


async def get(host, port):
    t0 = time.perf_counter()
    r, w = await asyncio.open_connection(host, port)
    w.write(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    await w.drain()
    data = b""
    while True:
        chunk = await r.read(65536)
        if not chunk:
            break
        data += chunk
    dt = (time.perf_counter() - t0) * 1000
    w.close()
    status = int(data.split(b" ", 2)[1]) if data else 0
    return dt, status, len(data)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("pid", type=int)
    ap.add_argument("--sse", type=int, default=500)
    ap.add_argument("--slow", type=int, default=300)
    ap.add_argument("--gets", type=int, default=50)
    ap.add_argument("--drip", type=float, default=3.0)
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep the load before timing")
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    port = int(port)
    before = proc(a.pid)
    opened, sse_alive, slow_alive, closed = [], [0], [0], [0]
    tasks = [asyncio.create_task(sse(host, port, opened, sse_alive)) for _ in range(a.sse)]
    tasks += [asyncio.create_task(slow(host, port, a.drip, closed, slow_alive)) for _ in range(a.slow)]
    # Let every connection be made and the first drip sent.
    end = time.time() + 30
    while (len(opened) < a.sse or slow_alive[0] + closed[0] < a.slow) and time.time() < end:
        await asyncio.sleep(0.05)
    await asyncio.sleep(max(a.drip + 0.5, a.hold))
    lat, statuses = [], set()
    for _ in range(a.gets):
        dt, st, _ = await get(host, port)
        lat.append(dt)
        statuses.add(st)
        await asyncio.sleep(0.05)
    under = proc(a.pid)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(json.dumps({
        "get_ms": {"p50": round(q(0.5), 1), "p95": round(q(0.95), 1), "max": round(lat[-1], 1)},
        "statuses": sorted(statuses),
        "sse_open": sse_alive[0], "slow_open": slow_alive[0], "slow_closed_by_server": closed[0],
        "threads": [before.get("Threads"), under.get("Threads")],
        "rss_kib": [before.get("VmRSS"), under.get("VmRSS")],
    }))
    for t in tasks:
        t.cancel()


asyncio.run(main())
