#!/usr/bin/env bats
# browser.bats: the pages in headless Chromium (Debian's chromium, driven
# by playwright-core) against the real service with the offline model.
# Screenshots go to tests/screenshots/ (git-ignored).

load lib/server

setup_file() {
	i2m_start
}

teardown_file() {
	i2m_stop
}

@test "browser: chromium is installed (tools/deps installs it)" {
	[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: run tools/deps"; false; }
}

@test "browser: upload through the page, tiles complete, 3D preview draws, downloads are valid" {
	export BROWSER_OUT="$BATS_TEST_TMPDIR"
	run timeout 180 node tests/browser/upload.js "$I2M_URL"
	echo "$output"
	[ "$status" -eq 0 ]
	node tests/tools/validate.js "$BATS_TEST_TMPDIR/one.glb"
	[ "$(unzip -Z1 "$BATS_TEST_TMPDIR/all.zip" | grep -c '\.glb$')" -eq 2 ]
}

@test "browser: the upload form works without JavaScript" {
	run timeout 120 node tests/browser/nojs.js "$I2M_URL"
	echo "$output"
	[ "$status" -eq 0 ]
}
