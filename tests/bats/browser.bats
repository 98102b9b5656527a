#!/usr/bin/env bats
# browser.bats: the pages in headless Chromium (Debian's chromium, driven
# by playwright-core) against the real service with the offline model.
# One @test per scenario, each `node tests/browser/<scenario>.js URL`
# (shared helpers in tests/browser/lib.js).  Screenshots of every state go
# to tests/screenshots/ (git-ignored).  A missing /usr/bin/chromium fails
# every scenario with that reason.

load lib/server

setup_file() {
	i2m_start
}

teardown_file() {
	i2m_stop
}

# scenario NAME [ARGS...]: run one scenario against the server, show its output.
scenario() {
	run timeout 120 node "tests/browser/$1.js" "$I2M_URL" "${@:2}"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "browser: chromium is installed (tools/deps installs it)" {
	[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: run tools/deps"; false; }
}

@test "browser (a): chair.png + sneaker.jpg + chair.png through the page, every tile completes, 3 result cards" {
	scenario a_upload
}
