#!/usr/bin/env python3
"""bench/big_glb.py OUT [MB]: a large textured GLB like a FAL model
(a UV sphere, positions, normals, UVs, 32-bit indices, one 4096 px PNG
texture with noise in it), about MB megabytes (default 30), for the light
preview's benchmark (bench/preview.sh).  Deterministic: same bytes every
run."""
import json
import math
import random
import struct
import sys
import zlib
from array import array


def png(w, h, rnd):
    """A w x h RGB PNG: a gradient with noise in its low bits (so it does
    not compress to nothing, as a photo texture does not)."""
    n = w * 3
    rows = []
    for y in range(h):
        grad = bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, 128))
        noise = bytes(b & 0x3f for b in rnd.randbytes(n)) if y % 8 == 0 else noise
        line = (int.from_bytes(grad, "big") ^ int.from_bytes(noise, "big")).to_bytes(n, "big")
        rows.append(b"\x00" + line)

    def chunk(t, d):
        return (struct.pack(">I", len(d)) + t + d +
                struct.pack(">I", zlib.crc32(t + d) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) +
            chunk(b"IEND", b""))


def main():
    out = sys.argv[1]
    mb = float(sys.argv[2]) if len(sys.argv) > 2 else 30
    rnd = random.Random(12)
    tex = png(4096, 4096, rnd)
    # vertices cost 32 bytes, triangles 12 (two per grid cell)
    left = max(1e6, mb * 1024 * 1024 - len(tex))
    n = int(math.sqrt(left / (32 + 24)))
    pos, nor, uv, idx = array("f"), array("f"), array("f"), array("I")
    for i in range(n + 1):
        t = math.pi * i / n
        for j in range(n + 1):
            p = 2 * math.pi * j / n
            r = 1 + 0.02 * math.sin(9 * t) * math.cos(7 * p)
            x, y, z = math.sin(t) * math.cos(p), math.cos(t), math.sin(t) * math.sin(p)
            pos.extend((r * x, r * y + 1, r * z))
            nor.extend((x, y, z))
            uv.extend((j / n, i / n))
    for i in range(n):
        for j in range(n):
            a, b = i * (n + 1) + j, (i + 1) * (n + 1) + j
            idx.extend((a, b, a + 1, a + 1, b, b + 1))
    blobs = [pos.tobytes(), nor.tobytes(), uv.tobytes(), idx.tobytes(), tex]
    views, off = [], 0
    for k, b in enumerate(blobs):
        views.append({"buffer": 0, "byteOffset": off, "byteLength": len(b)})
        off += len(b) + (-len(b) % 4)
    bin_ = b"".join(b + b"\0" * (-len(b) % 4) for b in blobs)
    nv = (n + 1) ** 2
    lo = [min(pos[k::3]) for k in range(3)]
    hi = [max(pos[k::3]) for k in range(3)]
    gltf = {
        "asset": {"version": "2.0", "generator": "bench/big_glb.py"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {
            "POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
            "indices": 3, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {
            "baseColorTexture": {"index": 0}, "metallicFactor": 0}}],
        "textures": [{"source": 0, "sampler": 0}],
        "samplers": [{"magFilter": 9729, "minFilter": 9987}],
        "images": [{"bufferView": 4, "mimeType": "image/png"}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": nv,
             "type": "VEC3", "min": lo, "max": hi},
            {"bufferView": 1, "componentType": 5126, "count": nv,
             "type": "VEC3"},
            {"bufferView": 2, "componentType": 5126, "count": nv,
             "type": "VEC2"},
            {"bufferView": 3, "componentType": 5125, "count": len(idx),
             "type": "SCALAR"}],
        "bufferViews": views,
        "buffers": [{"byteLength": len(bin_)}],
    }
    for k in range(4):
        views[k]["target"] = 34963 if k == 3 else 34962
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    total = 12 + 8 + len(js) + 8 + len(bin_)
    with open(out, "wb") as f:
        f.write(struct.pack("<III", 0x46546C67, 2, total))
        f.write(struct.pack("<II", len(js), 0x4E4F534A) + js)
        f.write(struct.pack("<II", len(bin_), 0x004E4942) + bin_)


if __name__ == "__main__":
    main()
