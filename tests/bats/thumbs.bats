#!/usr/bin/env bats
# thumbs.bats: every upload's thumbnail (issue 13) against lighttpd +
# handlers + daemon with the offline model: the status and the stream
# list thumbnail_url, the URL answers a JPEG of at most 256 px on its
# long side with a long Cache-Control, and a bad id, a bad file number
# or a missing thumbnail is 404 JSON.

load lib/server

setup_file() {
	i2m_start
	FIX="$PWD/tests/fixtures"
	ID=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg")
	export FIX ID
	i2m_wait_done "$ID" 120
}

# jpeg_fits FILE W H: FILE is a JPEG (its SOF) of the image W x H made
# at most 256 px on its long side: the long side 256 (or W x H when
# smaller) and the aspect kept within a pixel (the decoder may have
# reduced the image first, which rounds once more).
jpeg_fits() {
	local got
	got=$(jpeg_size "$1") || return 1
	python3 -c '
import sys
w, h, W, H = map(int, sys.argv[1:])
s = min(1.0, 256 / max(W, H))
ok = max(w, h) == round(max(W, H) * s) and abs(w - W * s) <= 1 and abs(h - H * s) <= 1
sys.exit(0 if ok else "%dx%d is no thumbnail of %dx%d" % (w, h, W, H))' $got "$2" "$3"
}

# jpeg_size FILE: "W H" of a baseline or progressive JPEG (its SOF).
jpeg_size() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:2] == b"\xff\xd8", "not a JPEG"
i = 2
while i + 4 <= len(d):
    assert d[i] == 0xFF, "bad marker"
    m = d[i + 1]
    n = struct.unpack(">H", d[i + 2:i + 4])[0]
    if m in (0xC0, 0xC1, 0xC2):
        h, w = struct.unpack(">HH", d[i + 5:i + 9])
        print(w, h)
        sys.exit(0)
    i += 2 + n
sys.exit("no SOF")
PY
}

@test "thumbs: the status lists thumbnail_url for every file, and it is served" {
	code=$(req "$I2M_URL/api/v1/status/tasks/$ID")
	[ "$code" = 200 ]
	for n in 0 1; do
		json_eq ".files[$n].thumbnail_url" "$I2M_URL/api/v1/thumbs/$ID/$n"
	done
	# chair.png is 503x503, sneaker.jpg 1349x900.
	want=("503 503" "1349 900")
	for n in 0 1; do
		code=$(reqo "$BATS_TEST_TMPDIR/t$n.jpg" "$I2M_URL/api/v1/thumbs/$ID/$n")
		[ "$code" = 200 ]
		grep -qi '^Content-Type: image/jpeg' "$HDR"
		grep -qiE '^Cache-Control: .*max-age=[0-9]{7,}' "$HDR"
		file "$BATS_TEST_TMPDIR/t$n.jpg" | grep -q 'JPEG image data'
		jpeg_fits "$BATS_TEST_TMPDIR/t$n.jpg" ${want[$n]}
	done
}

@test "thumbs: made once, in out/, and the same bytes on every request" {
	[ -f "$SPOOL_DIR/batches/$ID/out/0.thumb.jpg" ]
	jq -e '.thumbnail_file == "0.thumb.jpg"' "$SPOOL_DIR/batches/$ID/state/0.json"
	reqo "$BATS_TEST_TMPDIR/a" "$I2M_URL/api/v1/thumbs/$ID/1" >/dev/null
	reqo "$BATS_TEST_TMPDIR/b" "$I2M_URL/api/v1/thumbs/$ID/1" >/dev/null
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$SPOOL_DIR/batches/$ID/out/1.thumb.jpg"
}

@test "thumbs: the stream's file_update events carry thumbnail_url" {
	out="$BATS_TEST_TMPDIR/s"
	curl -s -N --max-time 30 "$I2M_URL/api/v1/status/tasks/$ID/stream" >"$out"
	events "$out" | grep $'\tfile_update\t' | cut -f3 >"$out.f"
	[ -s "$out.f" ]
	jq -s -e --arg id "$ID" --arg u "$I2M_URL" 'map(select(.thumbnail_url == "\($u)/api/v1/thumbs/\($id)/\(.file_id)")) | length == 2' "$out.f"
}

@test "thumbs: a bad id, a bad file number, a missing thumbnail are 404 JSON" {
	code=$(req "$I2M_URL/api/v1/thumbs/0123456789abcdef0123456789abcdef/0")
	[ "$code" = 404 ]
	json_eq .error_code TASK_NOT_FOUND
	code=$(req "$I2M_URL/api/v1/thumbs/not-an-id/0")
	[ "$code" = 404 ]
	json_eq .status_code 404
	for n in 2 -1 01 x 0.jpg; do
		code=$(req "$I2M_URL/api/v1/thumbs/$ID/$n")
		[ "$code" = 404 ] || { echo "$n: $code"; return 1; }
		json_eq .error_code THUMBNAIL_NOT_FOUND
		jq -e '.message | endswith(".")' "$BODY"
	done
}

@test "thumbs: none before a daemon starts the file (404, null), then made" {
	i2m_stop_daemon
	id=$(i2m_upload_id "$FIX/sneaker.jpg")
	code=$(req "$I2M_URL/api/v1/status/tasks/$id")
	[ "$code" = 200 ]
	json_eq .files[0].status queued
	json_eq .files[0].thumbnail_url null
	code=$(req "$I2M_URL/api/v1/thumbs/$id/0")
	[ "$code" = 404 ]
	json_eq .error_code THUMBNAIL_NOT_FOUND
	json_eq .message "This file has no thumbnail yet; it is made when the file starts processing."
	i2m_start_daemon
	i2m_wait_done "$id" 120
	code=$(req "$I2M_URL/api/v1/status/tasks/$id")
	json_eq .files[0].thumbnail_url "$I2M_URL/api/v1/thumbs/$id/0"
	code=$(reqo "$BATS_TEST_TMPDIR/t.jpg" "$I2M_URL/api/v1/thumbs/$id/0")
	[ "$code" = 200 ]
	jpeg_fits "$BATS_TEST_TMPDIR/t.jpg" 1349 900
}
