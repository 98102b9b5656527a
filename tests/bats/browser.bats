#!/usr/bin/env bats
# browser.bats: the pages in headless Chromium (Debian's chromium, driven
# by playwright-core) against the real service with the offline model.
# One @test per scenario, each `node tests/browser/<scenario>.js URL`
# (shared helpers in tests/browser/lib.js).  Screenshots of every state go
# to tests/screenshots/ (git-ignored; the pages in every state, light and
# dark, at 1280 and 390 px: tests/screenshots/pages/).  A missing /usr/bin/chromium fails
# every scenario with that reason.

load lib/server

setup_file() {
	i2m_start
}

# scenario NAME [ARGS...]: run one scenario against the server, show its output.
scenario() {
	run timeout 120 node "tests/browser/$1.js" "$I2M_URL" "${@:2}"
	echo "$output"
	[ "$status" -eq 0 ]
}

# gated NAME: run a scenario with the daemon stopped (files stay queued)
# until the scenario asks for it (it writes the file $START_DAEMON); the
# daemon runs again afterwards whatever happened.
gated() {
	local node_pid rc=0 i
	export START_DAEMON="$BATS_TEST_TMPDIR/start-daemon"
	i2m_stop_daemon
	timeout 120 node "tests/browser/$1.js" "$I2M_URL" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	node_pid=$!
	for i in $(seq 1 1200); do
		[ -f "$START_DAEMON" ] && break
		kill -0 "$node_pid" 2>/dev/null || break
		sleep 0.1
	done
	i2m_start_daemon
	wait "$node_pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ -f "$START_DAEMON" ] || echo "(the scenario never asked for the daemon)"
	[ "$rc" -eq 0 ]
}

@test "browser: chromium is installed (tools/deps installs it)" {
	[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: run tools/deps"; false; }
}

@test "browser (a): chair.png + sneaker.jpg + chair.png through the page, every tile completes, 3 result cards" {
	scenario a_upload
}

@test "browser (b): the 3D preview draws after model-viewer's load event" {
	scenario b_preview
}

@test "browser (c): a text file named x.png is refused before upload, with its reason" {
	scenario c_badfile
}

@test "browser (d): the upload form works without JavaScript" {
	scenario d_nojs
}

@test "browser (e): a reload mid-batch shows the same batch and follows it to completion" {
	gated e_reload
}

@test "browser (f): cancel asks, then cancels every waiting file; retry brings them back" {
	gated f_cancel
}

@test "browser (g): the page's Download and Download all (.zip) links give a valid GLB and a zip of both" {
	scenario g_download "$BATS_TEST_TMPDIR"
	node tests/tools/validate.js "$BATS_TEST_TMPDIR/one.glb"
	unzip -l "$BATS_TEST_TMPDIR/all.zip"
	[ "$(unzip -Z1 "$BATS_TEST_TMPDIR/all.zip" | grep -c '\.glb$')" -eq 2 ]
}

@test "browser (h): an unknown or malformed batch id gets a clear message" {
	scenario h_unknown
}

@test "browser (i): drop zone, remove one, clear all, parameter defaults, server error message, Abort" {
	scenario i_form
}

@test "browser (j): without the event stream the processing page polls and still finishes" {
	gated j_polling
}

@test "browser (k): the upload page checks the limits the API gives, not its own" {
	scenario k_limits
}

@test "browser (l): the batch's price is on the button before it is pressed; unknown says so, never \$0" {
	scenario l_estimate
}

@test "browser (m): every state at 1280 and 390 px, light and dark, screenshots; axe finds no serious violation; no layout shift" {
	gated m_look
}

@test "browser (n): a model opens large in a dialog with the keyboard (Enter, Tab stays inside, Escape), title shows progress" {
	scenario n_dialog
}

@test "browser (o): the upload page lists two earlier batches after a reload, with state, thumbnails, link and retention" {
	scenario o_recent
}

@test "browser (p): Notify me asks only when pressed; a notification fires when the batch finishes in a background tab" {
	gated p_notify
}

@test "browser (q): a batch's link in a fresh browser shows the server's thumbnails" {
	scenario q_thumbs
}
