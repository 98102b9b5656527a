#!/usr/bin/env bats
# browser_formats.bats: the formats on the results page in headless
# Chromium (issue 12), driven like browser.bats: the light copy of a large
# GLB draws, the download menu and the format choice of "Download all",
# AR attributes and the QR code (tests/browser/formats_light.js); and the
# QR endpoint on its own.

load lib/server

setup_file() {
	i2m_start
}

teardown_file() {
	i2m_stop
}

@test "browser formats: a large model's light copy draws; menu, QR, Download all format" {
	[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: run tools/deps"; false; }
	run timeout 240 node tests/browser/formats_light.js "$I2M_URL"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "qr: an SVG that opens the model's page; only for a finished model" {
	id=$(i2m_upload_id "$PWD/tests/fixtures/sneaker.jpg" -F resolution=48)
	i2m_wait_done "$id" 90
	HDR="$BATS_TEST_TMPDIR/hdr" BODY="$BATS_TEST_TMPDIR/qr.svg"
	code=$(req "$I2M_URL/api/v1/qr/$id/sneaker.svg")
	[ "$code" = 200 ]
	grep -qi '^Content-Type: image/svg+xml' "$HDR"
	grep -qi "^X-QR-Text: http://127.0.0.1:$PORT/processing.html?taskId=$id&model=sneaker.glb" "$HDR"
	grep -q '^<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 [0-9]* [0-9]*"' "$BODY"
	code=$(req "$I2M_URL/api/v1/qr/$id/nothing.svg")
	[ "$code" = 404 ]
	code=$(req "$I2M_URL/api/v1/qr/$id/sneaker.png")
	[ "$code" = 404 ]
}
