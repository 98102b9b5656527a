#!/usr/bin/env python3
"""fal_double.py: a local test double of FAL.AI's HTTP API on 127.0.0.1.

It implements the parts of the protocol image2model uses, as written down in
shared/docs/fal-protocol.md (section numbers below refer to it):

  POST /storage/upload/initiate?storage_type=...   (§3.2 A, the REST host)
  POST /<owner>/<alias>[/<path>]                   (§1.4 submit, full model id)
  GET  /<owner>/<alias>/requests/<id>/status       (§1.5, 202 / 200; logs)
  GET  /<owner>/<alias>/requests/<id>              (§1.7 result)
  PUT  /<owner>/<alias>/requests/<id>/cancel       (§1.8)
and, on a second server on another host and port (127.0.0.2) like FAL's
storage and CDN:
  PUT  /_upload/<token>                            (the presigned upload URL)
  GET  /files/<token>/<name>                       (the CDN: inputs and results)

Status, result and cancel accept the owner/alias form and, because the
notes leave it unconfirmed, the full-model-id form too.  One server plays
the queue host and the REST host.

It behaves as the real service does where a double that agrees with our
client would not (§8):
  - cancel removes a request still IN_QUEUE; one IN_PROGRESS only gets a
    signal, which the model ignores: it completes and bills (§8.1);
  - results stay retrievable (§8.2); CDN files do not expire (§8.3);
  - a locked account ("locked": its detail) answers storage initiate and
    submit with 403 {"detail": ...}; status polls still work (§8.4);
  - each model answers with its own output fields (MODELS, §8.5);
  - validation is late: unknown fields are ignored (and counted), a bad
    value is accepted, then the request fails at run time and its result
    answers 422 with a detail (§8.6, §8.7);
  - meshes can be made 20-50 MB ("mesh_mb") and the CDN slow ("cdn_kbps"),
    so download time-outs are real;
  - it counts what it billed and what of it was never downloaded
    ("billed_not_downloaded" in the state).

Invariants the tests rely on:
  - every submit is recorded (per upload file_name and per image sha256)
    before it is answered, so "submitted exactly once" can be asserted even
    when the client dies right after sending;
  - faults are scripted rules consumed in order, so a test says exactly
    which calls fail ("the next 2 submits get 429");
  - the key is checked but never echoed in any answer.

Control (no auth), all JSON:
  GET  /_control/state        submissions, requests, cancels, fault rules,
                              billed / billed_not_downloaded, lifecycle
                              headers, upload names, ignored fields
  POST /_control/config       {"run_ms","queue_ms","capacity","key",
                               "result_ttl_ms","log_progress": [models],
                               "model_errors": {name-or-model: {...}},
                               "locked": detail or null, "mesh_mb",
                               "cdn_kbps", "honour_cancel"}
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
import io
import json
import os
import socket
import struct
import sys
import threading
import time
import uuid
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The model table: one row per FAL model id (a new model is one row).
#   image:   the input field of the image URL; "array": it takes [url]
#   schema:  input field -> "str" | "int" | "num" | "bool" | ("enum", [...]);
#            a field not here is ignored, as FAL does (and counted)
#   outputs: result field -> what it holds: "glb" (a mesh file, billed
#            until downloaded), "png" (a preview), "urls" (model_urls
#            {"glb": file}), "id" (task id), "seed", "timings"
MODELS = {
    "tripo3d/tripo/v2.5/image-to-3d": {
        "image": "image_url",
        "schema": {
            "image_url": "str", "seed": "int", "face_limit": "int",
            "pbr": "bool", "texture": ("enum", ["no", "standard", "HD"]),
            "texture_seed": "int", "auto_size": "bool", "quad": "bool",
            "texture_alignment": ("enum", ["original_image", "geometry"]),
            "orientation": ("enum", ["default", "align_image"]),
        },
        # pbr_model and base_model, no model_mesh: as Tripo answers.
        "outputs": {"pbr_model": "glb", "base_model": "glb",
                    "rendered_image": "png", "task_id": "id"},
    },
    "fal-ai/trellis": {
        "image": "image_url",
        "schema": {
            "image_url": "str", "seed": "int", "ss_guidance_strength": "num",
            "ss_sampling_steps": "int", "slat_guidance_strength": "num",
            "slat_sampling_steps": "int", "mesh_simplify": "num",
            "texture_size": ("enum", [512, 1024, 2048]),
        },
        "outputs": {"model_mesh": "glb", "timings": "timings"},
    },
    "fal-ai/hunyuan3d/v2": {
        "image": "input_image_url",
        "schema": {
            "input_image_url": "str", "seed": "int",
            "num_inference_steps": "int", "guidance_scale": "num",
            "octree_resolution": "int", "textured_mesh": "bool",
        },
        "outputs": {"model_mesh": "glb", "seed": "seed"},
    },
    "fal-ai/triposr": {
        "image": "image_url",
        "schema": {
            "image_url": "str", "output_format": ("enum", ["glb", "obj"]),
            "do_remove_background": "bool", "foreground_ratio": "num",
            "mc_resolution": "int",
        },
        "outputs": {"model_mesh": "glb", "timings": "timings"},
    },
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
for _m, (_img, _schema, _out) in MODELS_2026.items():
    MODELS[_m] = {"image": _img, "array": _img.endswith("s"),
                  "schema": dict(_schema, **{_img: "str"}), "outputs": _out}


def make_glb(size=0):
    """A valid glTF 2.0 binary: one triangle, positions only; with size,
    its buffer is padded so the file is about size bytes."""
    pos = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    pos += b"\0" * max(0, size - len(pos) - 1000)
    gltf = {
        "asset": {"version": "2.0", "generator": "fal_double"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3,
                       "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0,
                         "byteLength": 36, "target": 34962}],
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


def make_usdz():
    """A USDZ as the spec has it: an uncompressed zip whose first file
    is the USD layer (here a one-triangle usda)."""
    usda = (b'#usda 1.0\n(defaultPrim = "m")\ndef Mesh "m" {\n'
            b'  int[] faceVertexCounts = [3]\n'
            b'  int[] faceVertexIndices = [0, 1, 2]\n'
            b'  point3f[] points = [(0, 0, 0), (1, 0, 0), (0, 1, 0)]\n}\n')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("model.usda", usda)
    return buf.getvalue()


OBJ = b"mtllib model.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
# The provider's extra formats in model_urls, with the bytes its CDN sends.
EXTRA = {
    "obj": ("text/plain", OBJ),
    "mtl": ("text/plain", b"newmtl m\nKd 0.5 0.5 0.5\n"),
    "fbx": ("application/octet-stream",
            b"; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n"
            b"\tFBXHeaderVersion: 1003\n\tFBXVersion: 7400\n}\n"),
    "usdz": ("model/vnd.usdz+zip", make_usdz()),
}

GLB = make_glb()
PNG = make_png()
BIG = {}  # mesh_mb -> GLB of that size, made once


def glb_of(mb):
    if not mb:
        return GLB
    if mb not in BIG:
        BIG[mb] = make_glb(int(mb * 1024 * 1024))
    return BIG[mb]


DEFAULTS = {
    "run_ms": 300, "queue_ms": 0, "capacity": 1000, "key": "test-key",
    "result_ttl_ms": 0, "log_progress": ["fal-ai/trellis",
                                         "fal-ai/hunyuan3d/v2"],
    "model_errors": {}, "locked": None, "mesh_mb": 0, "cdn_kbps": 0,
    "honour_cancel": False,
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
        self.lifecycle = {"initiate": [], "submit": []}
        self.upload_names = []
        self.ignored = []     # input fields FAL would ignore (§8.7)
        self.cdn_auth = 0     # CDN calls that carried Authorization
        self.cdn_base = getattr(self, "cdn_base", "")  # kept across resets

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
        err = (r["invalid"] or
               self.cfg["model_errors"].get(r["image_name"]) or
               self.cfg["model_errors"].get(r["model"]))
        if err:
            r["error"] = err
        else:
            r["billed"] = True  # it ran: FAL charges for it

    def billed_not_downloaded(self):
        return [rid for rid in self.order if self.requests[rid]["billed"]
                and not self.requests[rid]["downloaded"]]

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
            if self.server.cdn and parts and parts[0] == "_upload" and \
                    method == "PUT":
                return self.upload(parts[1:])
            if self.server.cdn and parts and parts[0] == "files" and \
                    method == "GET":
                return self.cdn(parts[1:])
            if self.server.cdn:
                return self.send(404, {"detail": "Not found"})
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
                          "cancelled", "cancel_requested", "billed",
                          "downloaded", "ignored")} for r in st.order],
                    "billed": sum(1 for r in st.order
                                  if st.requests[r]["billed"]),
                    "billed_not_downloaded": st.billed_not_downloaded(),
                    "lifecycle": st.lifecycle,
                    "upload_names": st.upload_names,
                    "ignored_fields": st.ignored, "cdn_auth": st.cdn_auth,
                    "cdn_base": st.cdn_base,
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

    def locked(self):
        """A locked account: billable calls get 403 with the reason."""
        with self.st.lock:
            why = self.st.cfg["locked"]
        if why:
            self.send(403, {"detail": why})
        return bool(why)

    def initiate(self, method, q):
        if method != "POST" or not self.authorized():
            return
        data = self.body()
        if self.fault("initiate") or self.locked():
            return
        with self.st.lock:
            self.st.lifecycle["initiate"].append(
                self.headers.get("X-Fal-Object-Lifecycle"))
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
            self.st.upload_names.append(name)
            cdn = self.st.cdn_base
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        self.send(200, {
            "upload_url": "%s/_upload/%s?sig=x" % (cdn, token),
            "file_url": "%s/files/%s/%s" % (cdn, token, safe)})

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
        if self.headers.get("Authorization"):
            with self.st.lock:
                self.st.cdn_auth += 1
            return self.send(400, {"detail": "unexpected Authorization"})
        if self.fault("cdn"):
            return
        if parts[:1] == ["result"] and len(parts) == 3:
            with self.st.lock:
                r = self.st.requests.get(parts[1])
                mb, kbps = self.st.cfg["mesh_mb"], self.st.cfg["cdn_kbps"]
            if r is None:
                return self.send(404, b"not found", "text/plain")
            ext = parts[2].rsplit(".", 1)[-1]
            if ext in EXTRA:
                ctype, body = EXTRA[ext]
                return self.send(200, body, ctype)
            if parts[2].endswith(".glb"):
                if self.send_slowly(glb_of(mb), "model/gltf-binary", kbps):
                    with self.st.lock:
                        r["downloaded"] = True
                return
            return self.send(200, PNG, "image/png")
        with self.st.lock:
            f = self.st.files.get(parts[0]) if parts else None
        if f is None or f["data"] is None:
            return self.send(404, b"not found", "text/plain")
        self.send(200, f["data"], f["ctype"])

    def send_slowly(self, body, ctype, kbps):
        """Send body at about kbps KiB/s (0 = at once); True when it all
        went out (the client did not give up)."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        step = 64 * 1024
        try:
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                if kbps:
                    time.sleep(64.0 / kbps)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def submit(self, model):
        if not self.authorized():
            return
        data = self.body()
        if model not in MODELS:
            return self.send(404, {"detail": "Application not found"})
        if self.fault("submit", model) or self.locked():
            return
        try:
            inp = json.loads(data)
        except ValueError:
            return self.send(422, {"detail": "Invalid JSON"})
        row = MODELS[model]
        url = inp.get(row["image"]) if isinstance(inp, dict) else None
        if row.get("array") and isinstance(url, list) and len(url) == 1:
            url = url[0]
        if not isinstance(url, str):
            return self.send(422, {"detail": [{
                "loc": ["body", row["image"]], "msg": "field required",
                "type": "value_error.missing"}]})
        ignored, invalid = check_input(model, inp)
        token = url.split("/files/", 1)[-1].split("/", 1)[0]
        st = self.st
        with st.lock:
            f = st.files.get(token)
            if f is None or f["data"] is None:
                return self.send(422, {"detail": [{
                    "loc": ["body", row["image"]],
                    "msg": "Could not download the file", "type":
                    "file_download_error"}]})
            st.lifecycle["submit"].append(
                self.headers.get("X-Fal-Object-Lifecycle-Preference"))
            st.ignored.extend(ignored)
            name = f["name"]
            sha = hashlib.sha256(f["data"]).hexdigest()
            rid = str(uuid.uuid4())
            now = time.time()
            r = {"id": rid, "model": model, "input": inp, "created": now,
                 "state": "IN_QUEUE", "started": None, "finished": None,
                 "run_ms": st.cfg["run_ms"], "error": None,
                 "image_name": name, "cancelled": False,
                 "cancel_requested": False, "billed": False,
                 "downloaded": False, "ignored": ignored,
                 "invalid": invalid}
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
            elif r["model"] in st.cfg["log_progress"] and r["started"]:
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
                    "loc": e.get("loc", ["body"]),
                    "msg": e.get("msg", e.get("error", "Model error")),
                    "type": e.get("error_type", "internal_error")}]})
            size = len(glb_of(st.cfg["mesh_mb"]))
            cdn = st.cdn_base
        self.send(200, result_body(r, "%s/files/result/%s" % (cdn, rid),
                                   size))

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
            r["cancel_requested"] = True
            if was == "IN_QUEUE" or st.cfg["honour_cancel"]:
                # Removed from the queue (or an app that stops): no bill.
                r["cancelled"] = True
                r["state"], r["finished"] = "COMPLETED", time.time()
                r["error"] = {"error": "Request cancelled",
                              "error_type": "cancelled", "code": 499}
            # else: only a signal; the model runs on, completes, bills.
        if was == "IN_QUEUE":
            self.send(200, {"status": "OK"})
        else:
            self.send(202, {"status": "CANCELLATION_REQUESTED"})


def log_line(msg, t):
    return {"message": msg, "level": "INFO", "source": "USER",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                       time.gmtime(t or time.time()))}


def file_obj(url, ctype, size):
    return {"url": url, "content_type": ctype,
            "file_name": url.rsplit("/", 1)[-1], "file_size": size}


def result_body(r, base, size):
    """The result of a request, shaped by its model's row."""
    out = {}
    for field, kind in MODELS[r["model"]]["outputs"].items():
        if kind == "glb":
            out[field] = file_obj("%s/%s.glb" % (base, field),
                                  "model/gltf-binary", size)
        elif kind == "urls":
            # As FAL's newer models: the GLB again and the other formats
            # the provider made (fal-models.md: {glb, obj, mtl, fbx, usdz}).
            out[field] = {"glb": file_obj("%s/%s.glb" % (base, field),
                                          "model/gltf-binary", size)}
            for ext, (ctype, body) in EXTRA.items():
                out[field][ext] = file_obj("%s/%s.%s" % (base, field, ext),
                                           ctype, len(body))
        elif kind == "png":
            out[field] = file_obj("%s/%s.png" % (base, field), "image/png",
                                  len(PNG))
        elif kind == "id":
            out[field] = r["id"]
        elif kind == "seed":
            out[field] = r["input"].get("seed", 42)
        elif kind == "timings":
            out[field] = {"inference": 0.1}
    return out


def check_input(model, inp):
    """Late validation (§8.7): (fields FAL ignores, the run-time error of
    the first bad value or None)."""
    schema = MODELS[model]["schema"]
    ignored = []
    for k, v in inp.items():
        t = schema.get(k)
        bad = False
        if k == MODELS[model]["image"]:
            continue
        if t is None:
            ignored.append(k)
            continue
        if t == "str":
            bad = not isinstance(v, str)
        elif t == "int":
            bad = isinstance(v, bool) or not isinstance(v, int)
        elif t == "num":
            bad = isinstance(v, bool) or not isinstance(v, (int, float))
        elif t == "bool":
            bad = not isinstance(v, bool)
        else:
            bad = isinstance(v, bool) or v not in t[1]
        if bad:
            return ignored, {
                "error": "Unprocessable Entity", "code": 422,
                "error_type": "validation_error", "loc": ["body", k],
                "msg": "%s: value is not a valid %s" % (
                    k, t if isinstance(t, str) else "enumeration member")}
    return ignored, None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    cdn = False


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
    # Storage and CDN on another host, as FAL's are (§3.3).
    try:
        cdn = Server(("127.0.0.2", 0), Handler)
    except OSError:
        cdn = Server(("127.0.0.1", 0), Handler)
    cdn.cdn, cdn.state = True, srv.state
    srv.state.cdn_base = "http://%s:%d" % cdn.server_address[:2]
    threading.Thread(target=cdn.serve_forever, args=(0.1,),
                     daemon=True).start()
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
