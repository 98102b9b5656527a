"""sse_client.py: the one SSE reader of the suites and the benchmarks.

open_stream() sends the GET the page's EventSource would send over a raw
connection (so thousands fit in one process); events() yields each
(event, data) pair as it arrives, after the status line has been read by
the caller, until the server ends the stream.
"""
import asyncio


async def open_stream(host, port, path):
    r, w = await asyncio.open_connection(host, port)
    w.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await w.drain()
    return r, w


async def events(r):
    ev = None
    while True:
        line = await r.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line.startswith("event: "):
            ev = line[7:]
        elif line.startswith("data: ") and ev is not None:
            yield ev, line[6:]
