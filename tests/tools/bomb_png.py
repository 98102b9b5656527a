#!/usr/bin/env python3
"""bomb_png.py OUT [W H [BITS]]: a decompression bomb, a W x H RGBA PNG
(default 6400 x 6250 = 40 MP, 16 bits per channel) of one colour that
deflates to a few hundred KB: rows made one at a time, so writing it costs
one row of memory.  For tests and bench/ (issue 10, finding 7)."""
import struct
import sys
import zlib


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main():
    out = sys.argv[1]
    w = int(sys.argv[2]) if len(sys.argv) > 2 else 6400
    h = int(sys.argv[3]) if len(sys.argv) > 3 else 6250
    bits = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    row = b"\0" + bytes([0x40, 0x80, 0xC0, 0xFF] * (bits // 8) * w)
    z = zlib.compressobj(9)
    idat = []
    for _ in range(h):
        idat.append(z.compress(row))
    idat.append(z.flush())
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", b"".join(idat)))
        f.write(chunk(b"IEND", b""))


main()
