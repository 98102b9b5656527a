#!/usr/bin/env bats
# kill.bats: nothing is left behind after any kill (issue 10, finding 9).
# kill -9 of lighttpd takes its FastCGI handlers with it; kill -9 of
# tools/run takes lighttpd, the handlers and the daemon with it.

load lib/server

teardown() {
	i2m_stop 2>/dev/null || true
	[ -z "${RUNPID:-}" ] || kill -KILL $(cat "$BATS_TEST_TMPDIR/tree" 2>/dev/null) 2>/dev/null || true
	[ -z "${RUNTMP:-}" ] || rm -rf "$RUNTMP"
}

# The pids of every descendant of $1.
tree() {
	local p c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		tree "$c"
	done
}

none_alive() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}

@test "kill -9 of lighttpd: its FastCGI handlers end with it" {
	i2m_start --no-daemon
	lpid=$(cat "$I2M_TMP/pid.lighttpd")
	kids=$(tree "$lpid")
	[ -n "$kids" ]
	kill -KILL "$lpid"
	wait_for 20 none_alive $kids || { ps -o pid,ppid,cmd -p $kids; return 1; }
}

@test "kill -9 of tools/run: lighttpd, the handlers and the daemon end with it" {
	RUNTMP=$(mktemp -d /tmp/i2m-runtest.XXXXXX)
	chmod 755 "$RUNTMP"
	mkdir "$RUNTMP/spool"
	[ "$(id -u)" != 0 ] || chown "$I2M_RUN_USER" "$RUNTMP/spool"
	PORT=$(_i2m_free_port)
	: >"$RUNTMP/empty.conf"
	proc_start run "$RUNTMP" env I2M_USER="$I2M_RUN_USER" I2M_CONFIG="$RUNTMP/empty.conf" \
		PORT="$PORT" SPOOL_DIR="$RUNTMP/spool" BUILD="${BUILD:-build}" TMPDIR="$RUNTMP" \
		"$PWD/tools/run"
	RUNPID=$(cat "$RUNTMP/pid.run")
	_i2m_wait_http "http://127.0.0.1:$PORT/api/v1/health/readiness" 200 30 || { cat "$RUNTMP/run.log"; return 1; }
	tree "$RUNPID" >"$BATS_TEST_TMPDIR/tree"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/tree")" -ge 4 ] || { cat "$BATS_TEST_TMPDIR/tree"; return 1; }
	kill -KILL "$RUNPID"
	wait_for 30 none_alive $(cat "$BATS_TEST_TMPDIR/tree") ||
		{ ps -o pid,ppid,cmd -p "$(tr '\n' ',' <"$BATS_TEST_TMPDIR/tree")0"; return 1; }
}
