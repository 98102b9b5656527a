#!/usr/bin/env python3
"""sse_watchers.py URL ID N OUT [QUERY]: N event streams on one batch at
once, for the bats suites (one process, not N curls).

Every stream is opened with QUERY (default "", e.g. "?since=2").  When
every one of them has had its first event (the server took it: a slot is
held) OUT.ready is written with the count.  Then each stream waits for a
file_update; when every stream has had one, or has ended, OUT gets one
JSON object: {"streams": N, "ready": n, "changed": n, "statuses": [...],
"errors": [...]} and the program exits 0.  A stream that is refused
(503, ...) counts as an error with its status line.  Kill it (TERM) to
let go of the streams before that.
"""
import asyncio
import json
import os
import sys
from urllib.parse import urlparse

from sse_client import events, open_stream


async def stream(host, port, path, ready, state):
    try:
        await watch(host, port, path, ready, state)
    except Exception as e:  # noqa: BLE001 (reported in OUT)
        state["errors"].append(repr(e))
    finally:
        if not ready.done():
            ready.set_result(False)


async def watch(host, port, path, ready, state):
    r, w = await open_stream(host, port, path)
    status = (await r.readline()).decode().strip()
    if " 200 " not in status + " ":
        state["errors"].append(status)
        w.close()
        return
    first = True
    async for ev, data in events(r):
        if first:
            first = False
            state["ready"] += 1
            if not ready.done():
                ready.set_result(True)
        if ev == "file_update":
            state["changed"] += 1
            state["statuses"].append(json.loads(data).get("status"))
            break
    w.close()


async def main():
    url, bid, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    query = sys.argv[5] if len(sys.argv) > 5 else ""
    u = urlparse(url)
    path = f"/api/v1/status/tasks/{bid}/stream{query}"
    state = {"streams": n, "ready": 0, "changed": 0, "statuses": [], "errors": []}
    loop = asyncio.get_running_loop()
    readies = [loop.create_future() for _ in range(n)]
    tasks = [asyncio.create_task(stream(u.hostname, u.port, path, readies[i], state)) for i in range(n)]
    await asyncio.gather(*readies)
    with open(out + ".ready", "w") as f:
        f.write(f"{state['ready']}\n")
    await asyncio.gather(*tasks)
    state["statuses"] = sorted(set(state["statuses"]))
    with open(out + ".tmp", "w") as f:
        json.dump(state, f)
    os.rename(out + ".tmp", out)


asyncio.run(main())
