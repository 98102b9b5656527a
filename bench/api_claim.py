#!/usr/bin/env python3
"""api_claim.py URL IMAGE N: N one-file uploads, one after another; for
each, the time from the upload's answer (read by this client) to the
daemon's claim (the "started" stamp the worker writes as it takes the
file).  Prints JSON with the median and the spread in ms."""
import http.client, json, statistics, sys, time, uuid
from urllib.parse import urlparse

url, image, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urlparse(url)
data = open(image, "rb").read()
lat = []
for i in range(n):
    b = uuid.uuid4().hex
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("POST", "/api/v1/upload/", body, {"Content-Type": f"multipart/form-data; boundary={b}"})
    r = c.getresponse()
    ans = json.loads(r.read())
    t_answer = time.time() * 1000.0
    bid = ans["batch_id"]
    started = None
    for _ in range(600):
        c.request("GET", f"/api/v1/status/tasks/{bid}/status")
        st = json.loads(c.getresponse().read())
        if st["finished"]:
            break
        time.sleep(0.05)
    c.close()
    # "started" is in the status file, not in the contract's object.
    started = json.load(open(f"{sys.argv[4]}/batches/{bid}/state/0.json")).get("started")
    lat.append(started - t_answer)
print(json.dumps({"n": n, "median_ms": statistics.median(lat), "min_ms": min(lat),
                  "max_ms": max(lat), "p90_ms": sorted(lat)[int(0.9 * (n - 1))]}))
