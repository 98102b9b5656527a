#!/usr/bin/env bats
# fal.bats: the basic FAL path against the test double: three different
# images with trellis all complete, every GLB is valid glTF 2.0 and every
# image reached FAL's queue exactly once.  The fault, model, recovery and
# batch cases are in fal_faults, fal_models, fal_recovery and fal_batch.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; fal_daemon d1; }
teardown() { fal_teardown; }

@test "fal: 3 images with trellis complete, valid GLBs, each submitted once" {
	# A third image, different bytes from the two fixtures.
	python3 - "$BATS_TEST_TMPDIR/third.png" <<'PY'
import struct, sys, zlib
w = h = 32
raw = b"".join(b"\0" + b"".join(bytes((x * 8, y * 8, 128)) for x in range(w))
              for y in range(h))
def chunk(t, d):
    c = struct.pack(">I", len(d)) + t + d
    return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = (b"\x89PNG\r\n\x1a\n" +
       chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
       chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
	id=$("$I2M" submit --model trellis "$FIX/chair.png" "$FIX/sneaker.jpg" \
		"$BATS_TEST_TMPDIR/third.png")
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
	[ "$("$I2M" --json show "$id" | jq .successful)" -eq 3 ]
	for n in 0 1 2; do
		[ "$(fal_file_json "$id" $n | jq -r .status)" = completed ]
		[ "$(fal_file_json "$id" $n | jq -r .model_file)" = "$n.glb" ]
		node tests/tools/validate.js "$SPOOL_DIR/batches/$id/out/$n.glb"
		# The thumbnail is the daemon's, whatever the backend.
		[ "$(fal_file_json "$id" $n | jq -r .thumbnail_file)" = "$n.thumb.jpg" ]
		file "$SPOOL_DIR/batches/$id/out/$n.thumb.jpg" | grep -q 'JPEG image data'
	done
	# Exactly once each: three submits, three distinct images, one apiece.
	st=$(fal_state)
	[ "$(echo "$st" | jq .submits)" -eq 3 ]
	[ "$(echo "$st" | jq '.by_sha | length')" -eq 3 ]
	[ "$(echo "$st" | jq '[.by_sha[]] | max')" -eq 1 ]
	echo "$st" | jq -e '[.requests[].model] | unique == ["fal-ai/trellis"]'
}
