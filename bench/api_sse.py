#!/usr/bin/env python3
"""api_sse.py URL ID N: open N SSE streams on one batch at once and report,
for each, when task_completed arrived.  Prints JSON: connected, completed,
the arrival times (ms since the epoch) and the errors."""
import asyncio, json, os, sys, time
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "bats", "lib"))
from sse_client import events, open_stream  # noqa: E402


async def client(host, port, path, res, ready):
    try:
        r, w = await open_stream(host, port, path)
        ready.append(1)
        async for ev, _ in events(r):
            if ev == "task_completed":
                res.append(time.time() * 1000.0)
                break
        w.close()
    except Exception as e:  # noqa: BLE001 (the benchmark reports it)
        res.append(("error", str(e)))


async def main():
    url, bid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    u = urlparse(url)
    path = f"/api/v1/status/tasks/{bid}/stream"
    res, ready = [], []
    tasks = [asyncio.create_task(client(u.hostname, u.port, path, res, ready)) for _ in range(n)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
    times = [x for x in res if isinstance(x, float)]
    errs = [x[1] for x in res if not isinstance(x, float)]
    print(json.dumps({"connected": len(ready), "completed": len(times),
                      "first_ms": min(times) if times else None,
                      "last_ms": max(times) if times else None, "errors": errs[:5]}))


asyncio.run(main())
