#!/usr/bin/env python3
"""fal_double.py: a local test double of FAL.AI's HTTP API on 127.0.0.1.

It implements the parts of the protocol image2model uses, as written down in
shared/docs/fal-protocol.md (section numbers below refer to it):

  POST /storage/upload/initiate?storage_type=...   (§3.2 A, the REST host)
  PUT  /_upload/<token>                            (the presigned upload URL)
  GET  /files/<token>/<name>                       (the CDN: inputs and results)
  POST /<owner>/<alias>[/<path>]                   (§1.4 submit, full model id)
  GET  /<owner>/<alias>/requests/<id>/status       (§1.5, 202 / 200; logs)
  GET  /<owner>/<alias>/requests/<id>              (§1.7 result)
  PUT  /<owner>/<alias>/requests/<id>/cancel       (§1.8)

Status, result and cancel accept the owner/alias form and, because the
notes leave it unconfirmed, the full-model-id form too.  One server plays
the queue host, the REST host and the CDN.

Invariants the tests rely on:
  - every submit is recorded (per upload file_name and per image sha256)
    before it is answered, so "submitted exactly once" can be asserted even
    when the client dies right after sending;
  - faults are scripted rules consumed in order, so a test says exactly
    which calls fail ("the next 2 submits get 429");
  - the key is checked but never echoed in any answer.

Control (no auth), all JSON:
  GET  /_control/state        submissions, requests, cancels, fault rules
  POST /_control/config       {"run_ms","queue_ms","capacity","key",
                               "result_ttl_ms","log_progress": [models],
                               "model_errors": {name-or-model: {...}}}
  POST /_control/faults       {"rules":[{"op","kind","count",...}]} (append)
  POST /_control/reset        forget everything (config back to defaults)

Fault rule: {"op": initiate|put|submit|status|result|cancel|cdn|any,
  "kind": 429|408|500|502html|503runner|504|504user|401|403|422|reset|slow|
          truncated|expired, "count": n (default 1), "model": substring of
  the model id (optional), "delay_ms": for slow, "retry_after": seconds}.

Usage: fal_double.py [--port N] [--portfile F] [--key K] [--run-ms N]
"""

import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Each model's input schema (§4): field -> type name.  Unknown fields are
# refused with 422 so a wrong field name in the client fails a test.
SCHEMAS = {
    "tripo3d/tripo/v2.5/image-to-3d": {
        "image_url": "str", "seed": "int", "face_limit": "int",
        "pbr": "bool", "texture": ("enum", ["no", "standard", "HD"]),
        "texture_seed": "int", "auto_size": "bool", "quad": "bool",
        "texture_alignment": ("enum", ["original_image", "geometry"]),
        "orientation": ("enum", ["default", "align_image"]),
    },
    "fal-ai/trellis": {
        "image_url": "str", "seed": "int", "ss_guidance_strength": "num",
        "ss_sampling_steps": "int", "slat_guidance_strength": "num",
        "slat_sampling_steps": "int", "mesh_simplify": "num",
        "texture_size": ("enum", [512, 1024, 2048]),
    },
    "fal-ai/hunyuan3d/v2": {
        "input_image_url": "str", "seed": "int",
        "num_inference_steps": "int", "guidance_scale": "num",
        "octree_resolution": "int", "textured_mesh": "bool",
    },
    "fal-ai/triposr": {
        "image_url": "str", "output_format": ("enum", ["glb", "obj"]),
        "do_remove_background": "bool", "foreground_ratio": "num",
        "mc_resolution": "int",
    },
}
REQUIRED = {
    "tripo3d/tripo/v2.5/image-to-3d": "image_url",
    "fal-ai/trellis": "image_url",
    "fal-ai/hunyuan3d/v2": "input_image_url",
    "fal-ai/triposr": "image_url",
}

# The 2026 models (fal-js 381105e types; docs/models.md): input schema,
# image field, and the output shape: which fields hold the mesh ("glb"),
# a preview ("png"), or the model_urls object ("urls").
_PBR = {"pbr": "bool"}
MODELS_2026 = {
    "tripo3d/h3.1/image-to-3d": ("image_url", dict(_PBR, **{
        "texture": "bool", "face_limit": "int", "model_seed": "int",
        "texture_quality": ("enum", ["standard", "detailed"]),
        "geometry_quality": ("enum", ["standard", "detailed"])}),
        {"model_mesh": "glb", "model_urls": "urls", "rendered_image": "png"}),
    "tripo3d/p1/image-to-3d": ("image_url", {
        "texture": "bool", "face_limit": "int", "model_seed": "int"},
        {"model_mesh": "glb", "model_urls": "urls"}),
    "fal-ai/trellis-2": ("image_url", {
        "resolution": ("enum", [512, 1024, 1536]), "seed": "int",
        "texture_size": ("enum", [1024, 2048, 4096]), "remesh": "bool",
        "decimation_target": "int"}, {"model_glb": "glb"}),
    "fal-ai/hunyuan3d-v3/image-to-3d": ("input_image_url", {
        "generate_type": ("enum", ["Normal", "LowPoly", "Geometry"]),
        "face_count": "int", "enable_pbr": "bool",
        "polygon_type": ("enum", ["triangle", "quadrilateral"])},
        {"model_glb": "glb", "model_urls": "urls", "thumbnail": "png"}),
    "fal-ai/hunyuan-3d/v3.1/pro/image-to-3d": ("input_image_url", {
        "generate_type": ("enum", ["Normal", "Geometry"]),
        "face_count": "int", "enable_pbr": "bool"},
        {"model_glb": "glb", "model_urls": "urls", "thumbnail": "png"}),
    "fal-ai/hunyuan-3d/v3.1/rapid/image-to-3d": ("input_image_url", {
        "enable_geometry": "bool", "enable_pbr": "bool"},
        {"model_glb": "glb", "model_urls": "urls"}),
    "fal-ai/meshy/v6/image-to-3d": ("image_url", {
        "should_texture": "bool", "enable_pbr": "bool",
        "model_type": ("enum", ["standard", "lowpoly"]),
        "topology": ("enum", ["quad", "triangle"]),
        "target_polycount": "int", "should_remesh": "bool",
        "symmetry_mode": ("enum", ["off", "auto", "on"])},
        {"model_glb": "glb", "model_urls": "urls", "thumbnail": "png"}),
    "fal-ai/hyper3d/rodin/v2.5": ("image_urls", {
        "tier": ("enum", ["Gen-2.5-Minimum", "Gen-2.5-Extreme-Low",
                          "Gen-2.5-Low", "Gen-2.5-Medium", "Gen-2.5-High",
                          "Gen-2.5-Extreme-High"]),
        "material": ("enum", ["PBR", "Shaded", "All", "None"]),
        "quality_mesh_option": "str", "seed": "int",
        "geometry_file_format": ("enum", ["glb", "usdz", "fbx", "obj",
                                          "stl"])},
        {"model_mesh": "glb"}),
    "fal-ai/pixal3d": ("image_url", {
        "resolution": ("enum", [1024, 1536]), "seed": "int",
        "texture_size": ("enum", [1024, 2048, 4096]), "remesh": "bool",
        "decimation_target": "int"}, {"model_glb": "glb"}),
}
OUTPUTS = {}
for _m, (_img, _schema, _out) in MODELS_2026.items():
    SCHEMAS[_m] = dict(_schema, **{_img: "strs" if _img.endswith("s")
                                   else "str"})
    REQUIRED[_m] = _img
    OUTPUTS[_m] = _out


def make_glb():
    """A small valid glTF 2.0 binary: one triangle, positions only."""
    pos = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    gltf = {
        "asset": {"version": "2.0", "generator": "fal_double"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3,
                       "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0,
                         "byteLength": len(pos), "target": 34962}],
        "buffers": [{"byteLength": len(pos)}],
    }
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    total = 12 + 8 + len(js) + 8 + len(pos)
    return (struct.pack("<III", 0x46546C67, 2, total) +
            struct.pack("<II", len(js), 0x4E4F534A) + js +
            struct.pack("<II", len(pos), 0x004E4942) + pos)


def make_png():
    """An 8x8 grey PNG."""
    def chunk(t, d):
        return (struct.pack(">I", len(d)) + t + d +
                struct.pack(">I", zlib.crc32(t + d) & 0xffffffff))
    raw = b"".join(b"\x00" + b"\x80\x80\x80" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


GLB = make_glb()
PNG = make_png()

DEFAULTS = {
    "run_ms": 300, "queue_ms": 0, "capacity": 1000, "key": "test-key",
    "result_ttl_ms": 0, "log_progress": ["fal-ai/trellis",
                                         "fal-ai/hunyuan3d/v2"],
    "model_errors": {}, "preview": ["tripo3d/tripo/v2.5/image-to-3d"],
}


class State:
    def __init__(self, key, run_ms):
        self.lock = threading.Lock()
        self.key, self.run_ms = key, run_ms
        self.reset()

    def reset(self):
        self.cfg = json.loads(json.dumps(DEFAULTS))
        self.cfg["key"], self.cfg["run_ms"] = self.key, self.run_ms
        self.files = {}       # token -> {"name","ctype","data"}
        self.requests = {}    # id -> dict
        self.order = []       # request ids in submit order
        self.by_name = {}     # upload file_name -> submits
        self.by_sha = {}      # sha256 of the image -> submits
        self.rules = []
        self.calls = {}       # op -> count
        self.cancels = 0
        self.rejected_auth = 0
        self.connections = 0  # TCP connections accepted (reuse check)
        self.requests_seen = 0

    def advance(self, now):
        """Move queued requests into running and running ones to done."""
        running = 0
        for rid in self.order:
            r = self.requests[rid]
            if r["state"] == "IN_PROGRESS":
                if now >= r["started"] + r["run_ms"] / 1000.0:
                    self.finish(r, now)
                else:
                    running += 1
        for rid in self.order:
            r = self.requests[rid]
            if r["state"] != "IN_QUEUE":
                continue
            if (now >= r["created"] + self.cfg["queue_ms"] / 1000.0 and
                    running < self.cfg["capacity"]):
                r["state"], r["started"] = "IN_PROGRESS", now
                running += 1

    def finish(self, r, now):
        r["state"], r["finished"] = "COMPLETED", now
        err = (self.cfg["model_errors"].get(r["image_name"]) or
               self.cfg["model_errors"].get(r["model"]))
        if err:
            r["error"] = err

    def queue_position(self, r):
        pos = 0
        for rid in self.order:
            if rid == r["id"]:
                return pos
            if self.requests[rid]["state"] == "IN_QUEUE":
                pos += 1
        return pos

    def take_fault(self, op, model):
        for rule in self.rules:
            if rule.get("op", "any") not in (op, "any"):
                continue
            if rule.get("model") and rule["model"] not in (model or ""):
                continue
            rule["count"] = rule.get("count", 1) - 1
            if rule["count"] <= 0:
                self.rules.remove(rule)
            return rule
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fal_double/1"

    def log_message(self, fmt, *args):
        if os.environ.get("FAL_DOUBLE_VERBOSE"):
            sys.stderr.write("fal_double: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        with self.server.state.lock:
            self.server.state.connections += 1

    @property
    def st(self):
        return self.server.state

    def base(self):
        return "http://%s:%d" % self.server.server_address[:2]

    # -- answers -------------------------------------------------------
    def send(self, code, body=b"", ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-fal-request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        """The request body, read once up front so that every answer
        (even a 401 or a fault) leaves the connection reusable."""
        if self._data is None:
            n = int(self.headers.get("Content-Length") or 0)
            self._data = self.rfile.read(n) if n > 0 else b""
        return self._data

    def authorized(self):
        want = "Key " + self.st.cfg["key"]
        if self.headers.get("Authorization") == want:
            return True
        with self.st.lock:
            self.st.rejected_auth += 1
        self.send(401, {"detail": "Unauthorized"})
        return False

    def fault(self, op, model=None):
        """Apply the next matching fault rule; True when it answered."""
        with self.st.lock:
            self.st.calls[op] = self.st.calls.get(op, 0) + 1
            rule = self.st.take_fault(op, model)
        if rule is None:
            return False
        kind = str(rule.get("kind"))
        ra = rule.get("retry_after")
        hdr = {"Retry-After": str(ra)} if ra is not None else {}
        if kind == "slow":
            time.sleep(rule.get("delay_ms", 500) / 1000.0)
            return False  # then answer normally
        if kind == "reset":
            self.close_connection = True
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            return True
        if kind == "truncated" and op == "submit":
            # FAL accepted it; only the answer is cut (so it is recorded).
            self._truncate = True
            return False
        if kind == "truncated":
            body = b'{"status": "IN_QUEUE", "request_id": "abc'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        if kind == "502html":
            self.send(502, b"<html><head><title>502 Bad Gateway</title>"
                      b"</head><body><center><h1>502 Bad Gateway</h1>"
                      b"</center><hr><center>nginx</center></body></html>",
                      "text/html", hdr)
            return True
        if kind == "503runner":
            self.send(503, {"detail": "Runner disconnected",
                            "error_type": "runner_disconnected"},
                      headers=dict(hdr, **{
                          "X-Fal-Error-Type": "runner_disconnected"}))
            return True
        if kind == "504user":
            self.send(504, {"detail": "Request timed out",
                            "error_type": "request_timeout"},
                      headers={"X-Fal-Request-Timeout-Type": "user",
                               "X-Fal-Error-Type": "request_timeout"})
            return True
        if kind == "422":
            self.send(422, {"detail": [{
                "loc": ["body", "image_url"],
                "msg": rule.get("msg", "The image is too large."),
                "type": "image_too_large"}]})
            return True
        if kind == "expired":
            self.send(404, {"detail": "Request not found"})
            return True
        if kind in ("401", "403"):
            self.send(int(kind), {"detail": "Unauthorized"})
            return True
        code = int(kind)
        self.send(code, {"detail": "Injected %d" % code}, headers=hdr)
        return True

    # -- routing ---------------------------------------------------------
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def route(self, method):
        self._data = None
        self._truncate = False
        with self.st.lock:
            self.st.requests_seen += 1
        self.body()
        u = urlsplit(self.path)
        parts = [p for p in u.path.split("/") if p]
        q = parse_qs(u.query)
        try:
            if parts and parts[0] == "_control":
                return self.control(method, parts[1:])
            if parts[:3] == ["storage", "upload", "initiate"]:
                return self.initiate(method, q)
            if parts and parts[0] == "_upload" and method == "PUT":
                return self.upload(parts[1:])
            if parts and parts[0] == "files" and method == "GET":
                return self.cdn(parts[1:])
            if "requests" in parts:
                i = parts.index("requests")
                rest = parts[i + 1:]
                if rest and method == "GET" and rest[1:] == ["status"]:
                    return self.status(rest[0], q)
                if rest and method == "GET" and len(rest) == 1:
                    return self.result(rest[0])
                if rest and method == "PUT" and rest[1:] == ["cancel"]:
                    return self.cancel(rest[0])
            if method == "POST" and len(parts) >= 2:
                return self.submit("/".join(parts))
            self.send(404, {"detail": "Not found"})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def control(self, method, parts):
        st = self.st
        if method == "GET" and parts == ["state"]:
            with st.lock:
                st.advance(time.time())
                out = {
                    "by_name": st.by_name, "by_sha": st.by_sha,
                    "submits": len(st.order), "cancels": st.cancels,
                    "rejected_auth": st.rejected_auth, "calls": st.calls,
                    "connections": st.connections,
                    "http_requests": st.requests_seen,
                    "rules": st.rules, "requests": [
                        {k: st.requests[r][k] for k in
                         ("id", "model", "input", "state", "image_name",
                          "cancelled")} for r in st.order],
                }
            return self.send(200, out)
        data = json.loads(self.body() or b"{}")
        with st.lock:
            if method == "POST" and parts == ["reset"]:
                st.reset()
            elif method == "POST" and parts == ["config"]:
                st.cfg.update(data)
            elif method == "POST" and parts == ["faults"]:
                st.rules.extend(data.get("rules", []))
            else:
                return self.send(404, {"detail": "no such control"})
        self.send(200, {"ok": True})

    def initiate(self, method, q):
        if method != "POST" or not self.authorized():
            return
        data = self.body()
        if self.fault("initiate"):
            return
        try:
            req = json.loads(data)
            name = str(req.get("file_name") or "upload.bin")
            ctype = str(req["content_type"])
        except (ValueError, KeyError, AttributeError):
            return self.send(422, {"detail": "content_type is required"})
        token = uuid.uuid4().hex
        with self.st.lock:
            self.st.files[token] = {"name": name, "ctype": ctype,
                                    "data": None}
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        self.send(200, {
            "upload_url": "%s/_upload/%s?sig=x" % (self.base(), token),
            "file_url": "%s/files/%s/%s" % (self.base(), token, safe)})

    def upload(self, parts):
        data = self.body()
        if self.headers.get("Authorization"):
            # The presigned URL must not get the FAL key.
            return self.send(400, {"detail": "unexpected Authorization"})
        if self.fault("put"):
            return
        token = parts[0] if parts else ""
        with self.st.lock:
            f = self.st.files.get(token)
            if f is None:
                return self.send(404, {"detail": "unknown upload"})
            f["data"] = data
            f["ctype"] = self.headers.get("Content-Type", f["ctype"])
        self.send(200, b"", "text/plain")

    def cdn(self, parts):
        if self.fault("cdn"):
            return
        if parts[:1] == ["result"] and len(parts) == 3:
            if parts[2].endswith(".glb"):
                return self.send(200, GLB, "model/gltf-binary")
            return self.send(200, PNG, "image/png")
        with self.st.lock:
            f = self.st.files.get(parts[0]) if parts else None
        if f is None or f["data"] is None:
            return self.send(404, b"not found", "text/plain")
        self.send(200, f["data"], f["ctype"])

    def submit(self, model):
        if not self.authorized():
            return
        data = self.body()
        if model not in SCHEMAS:
            return self.send(404, {"detail": "Application not found"})
        if self.fault("submit", model):
            return
        try:
            inp = json.loads(data)
        except ValueError:
            return self.send(422, {"detail": "Invalid JSON"})
        err = check_input(model, inp)
        if err:
            return self.send(422, {"detail": [err]})
        url = inp[REQUIRED[model]]
        if isinstance(url, list):
            url = url[0]
        token = url.split("/files/", 1)[-1].split("/", 1)[0]
        st = self.st
        with st.lock:
            f = st.files.get(token)
            if f is None or f["data"] is None:
                return self.send(422, {"detail": [{
                    "loc": ["body", REQUIRED[model]],
                    "msg": "Could not download the file", "type":
                    "file_download_error"}]})
            name = f["name"]
            sha = hashlib.sha256(f["data"]).hexdigest()
            rid = str(uuid.uuid4())
            now = time.time()
            r = {"id": rid, "model": model, "input": inp, "created": now,
                 "state": "IN_QUEUE", "started": None, "finished": None,
                 "run_ms": st.cfg["run_ms"], "error": None,
                 "image_name": name, "cancelled": False}
            st.requests[rid] = r
            st.order.append(rid)
            st.by_name[name] = st.by_name.get(name, 0) + 1
            st.by_sha[sha] = st.by_sha.get(sha, 0) + 1
            st.advance(now)
            pos = st.queue_position(r)
        if self._truncate:
            body = ('{"status": "IN_QUEUE", "request_id": "%s' % rid).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send(200, dict(self.urls(model, rid), status="IN_QUEUE",
                            request_id=rid, gateway_request_id=rid,
                            queue_position=pos))

    def urls(self, model, rid):
        owner_alias = "/".join(model.split("/")[:2])
        u = "%s/%s/requests/%s" % (self.base(), owner_alias, rid)
        return {"response_url": u, "status_url": u + "/status",
                "cancel_url": u + "/cancel"}

    def lookup(self, rid):
        with self.st.lock:
            return self.st.requests.get(rid)

    def status(self, rid, q):
        if not self.authorized():
            return
        r = self.lookup(rid)
        if self.fault("status", r and r["model"]):
            return
        if r is None:
            return self.send(404, {"detail": "Request not found"})
        logs_on = (q.get("logs") or ["0"])[0] in ("1", "true")
        st = self.st
        with st.lock:
            now = time.time()
            st.advance(now)
            out = dict(self.urls(r["model"], rid), status=r["state"],
                       request_id=rid)
            logs = []
            if r["state"] != "IN_QUEUE":
                logs.append(log_line("Loading the model", r["started"]))
            if r["state"] == "IN_QUEUE":
                out["queue_position"] = st.queue_position(r)
            elif r["model"] in st.cfg["log_progress"]:
                frac = min(1.0, (now - r["started"]) * 1000.0 /
                           max(1, r["run_ms"]))
                if r["state"] == "COMPLETED":
                    frac = 1.0
                pct = int(frac * 100)
                logs.append(log_line(
                    "Sampling: %3d%%|%s| %d/12" %
                    (pct, "#" * (pct // 10), int(frac * 12)), now))
            out["logs"] = logs if logs_on else None
            code = 202
            if r["state"] == "COMPLETED":
                code = 200
                out["metrics"] = {"inference_time": r["run_ms"] / 1000.0}
                if r["error"]:
                    out["error"] = r["error"].get("error", "Model error")
                    out["error_type"] = r["error"].get("error_type",
                                                       "internal_error")
        self.send(code, out)

    def result(self, rid):
        if not self.authorized():
            return
        r = self.lookup(rid)
        if self.fault("result", r and r["model"]):
            return
        if r is None:
            return self.send(404, {"detail": "Request not found"})
        st = self.st
        with st.lock:
            st.advance(time.time())
            ttl = st.cfg["result_ttl_ms"]
            if r["state"] != "COMPLETED":
                return self.send(400, {"detail":
                                       "Request is still in progress"})
            if ttl and time.time() > r["finished"] + ttl / 1000.0:
                return self.send(404, {"detail": "Request not found"})
            if r["cancelled"]:
                return self.send(499, {"detail": "Request cancelled"})
            if r["error"]:
                e = r["error"]
                return self.send(e.get("code", 422), {"detail": [{
                    "loc": ["body"], "msg": e.get("error", "Model error"),
                    "type": e.get("error_type", "internal_error")}]})
            want_preview = r["model"] in st.cfg["preview"]
        base = "%s/files/result/%s" % (self.base(), rid)
        mesh = {"url": base + "/model.glb", "content_type":
                "model/gltf-binary", "file_name": "model.glb",
                "file_size": len(GLB)}
        out = {"model_mesh": mesh, "timings": {"inference": 0.1}}
        png = {"url": base + "/preview.png", "content_type": "image/png",
               "file_name": "preview.png", "file_size": len(PNG)}
        if r["model"] in OUTPUTS:
            out = {k: {"glb": mesh, "png": png, "urls": {"glb": mesh}}[v]
                   for k, v in OUTPUTS[r["model"]].items()}
        if r["model"].startswith("tripo3d/"):
            out["task_id"] = rid
        if r["model"] == "fal-ai/hunyuan3d/v2":
            out["seed"] = r["input"].get("seed", 42)
        if want_preview:
            out["rendered_image"] = {
                "url": base + "/preview.png", "content_type": "image/png",
                "file_name": "preview.png", "file_size": len(PNG)}
        self.send(200, out)

    def cancel(self, rid):
        if not self.authorized():
            return
        r = self.lookup(rid)
        if self.fault("cancel", r and r["model"]):
            return
        st = self.st
        with st.lock:
            st.cancels += 1
            if r is None:
                return self.send(404, {"status": "NOT_FOUND"})
            st.advance(time.time())
            if r["state"] == "COMPLETED":
                return self.send(400, {"status": "ALREADY_COMPLETED"})
            was = r["state"]
            r["cancelled"] = True
            r["state"], r["finished"] = "COMPLETED", time.time()
            r["error"] = {"error": "Request cancelled",
                          "error_type": "cancelled", "code": 499}
        if was == "IN_QUEUE":
            self.send(200, {"status": "OK"})
        else:
            self.send(202, {"status": "CANCELLATION_REQUESTED"})


def log_line(msg, t):
    return {"message": msg, "level": "INFO", "source": "USER",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                       time.gmtime(t or time.time()))}


def check_input(model, inp):
    if not isinstance(inp, dict):
        return {"loc": ["body"], "msg": "Input must be an object",
                "type": "type_error"}
    schema = SCHEMAS[model]
    need = REQUIRED[model]
    v = inp.get(need)
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if not isinstance(v, str):
        return {"loc": ["body", need], "msg": "field required",
                "type": "value_error.missing"}
    for k, v in inp.items():
        t = schema.get(k)
        bad = False
        if t is None:
            return {"loc": ["body", k], "msg": "extra fields not permitted",
                    "type": "value_error.extra"}
        if t == "str":
            bad = not isinstance(v, str)
        elif t == "strs":
            bad = not (isinstance(v, list) and v and
                       all(isinstance(x, str) for x in v))
        elif t == "int":
            bad = isinstance(v, bool) or not isinstance(v, int)
        elif t == "num":
            bad = isinstance(v, bool) or not isinstance(v, (int, float))
        elif t == "bool":
            bad = not isinstance(v, bool)
        else:
            bad = isinstance(v, bool) or v not in t[1]
        if bad:
            return {"loc": ["body", k], "msg": "value is not a valid %s" %
                    (t if isinstance(t, str) else "enumeration member"),
                    "type": "type_error"}
    return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--key", default=os.environ.get("FAL_DOUBLE_KEY",
                                                    "test-key"))
    ap.add_argument("--run-ms", type=int, default=300)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a.key, a.run_ms)
    port = srv.server_address[1]
    if a.portfile:
        tmp = a.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.portfile)
    else:
        print(port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
