#!/usr/bin/env bats
# cli_root.bats: i2m run as root on the service's spool (issue 10,
# finding 2) writes as the spool's owner: every file it leaves is the
# service user's, the daemon runs what it submitted and the API still
# reads a batch root cancelled.  Only meaningful as root (CI runs so).

load lib/server

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	i2m_start
}

teardown_file() {
	[ "$(id -u)" = 0 ] || return 0
	i2m_stop
}

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
}

# Nothing under the spool belongs to anyone but the service user.
owned_by_service() {
	local bad
	bad=$(find "$SPOOL_DIR" ! -user "$I2M_RUN_USER" | head -5)
	[ -z "$bad" ] || { echo "not the service user's: $bad" >&2; ls -ln $bad >&2; return 1; }
}

@test "root cli: submit writes as the spool's owner and the daemon runs it" {
	# (The photo must be readable by the spool's owner: the checkout's.)
	id=$("$I2M_BIN/i2m" submit --model local "$PWD/tests/fixtures/chair.png")
	[ -n "$id" ]
	owned_by_service
	i2m_wait_done "$id" 120
	code=$(req "$I2M_URL/api/v1/status/tasks/$id/status")
	[ "$code" = 200 ]
	json_eq '.files[0].status' completed
}

@test "root cli: cancel of a live batch leaves it readable to the API" {
	i2m_stop_daemon
	id=$(i2m_as_user "$I2M_BIN/i2m" submit --model local tests/fixtures/chair.png)
	"$I2M_BIN/i2m" cancel "$id"
	owned_by_service
	code=$(req "$I2M_URL/api/v1/status/tasks/$id/status")
	[ "$code" = 200 ] || { cat "$BODY"; return 1; }
	json_eq '.files[0].status' cancelled
	"$I2M_BIN/i2m" list >/dev/null
	owned_by_service
	i2m_start_daemon
}
