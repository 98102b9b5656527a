#!/usr/bin/env bats
# browser_control.bats: the processing page while files wait (no daemon
# yet): over-size refusal before upload, reload resumes, cancel, retry,
# then a daemon finishes the batch and the failed tile gives its reason.
# Phone-sized viewport (390x844).

load lib/server

setup_file() {
	i2m_start --no-daemon
}

@test "browser: over-size refused, reload resumes, cancel and retry work, a failed tile says why" {
	export START_DAEMON="$BATS_TEST_TMPDIR/start"
	timeout 180 node tests/browser/control.js "$I2M_URL" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	node_pid=$!
	for i in $(seq 1 1200); do
		[ -f "$START_DAEMON" ] && break
		kill -0 "$node_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -f "$START_DAEMON" ] && i2m_start_daemon
	rc=0
	wait "$node_pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$rc" -eq 0 ]
}
