#!/usr/bin/env bats
# secrets.bats: keys are not in the environment of the processes that
# serve HTTP (issue 10, finding 12).  The handlers and the daemon keep
# FAL_KEY and API_KEYS in memory only (scrubbed from /proc/<pid>/environ),
# and tools/run gives lighttpd neither: they reach the programs through a
# run config only the service user reads.

load lib/server

FALK=fal-secret-3c1d9e
APIK=api-secret-77aa01

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
}

teardown() {
	i2m_stop 2>/dev/null || true
	[ -z "${RUNPID:-}" ] || { kill -TERM "$RUNPID"; wait_for 30 bash -c "! kill -0 $RUNPID 2>/dev/null"; }
	[ -z "${RUNTMP:-}" ] || rm -rf "$RUNTMP"
}

# No process below pid $1 (nor $1) has a key in its environment.
no_key_in_env() {
	local p bad=
	for p in "$@"; do
		[ -r "/proc/$p/environ" ] || continue
		if tr '\0' '\n' <"/proc/$p/environ" | grep -qE "$FALK|$APIK"; then
			bad="$bad $p($(tr '\0' ' ' <"/proc/$p/cmdline" | head -c 80))"
		fi
	done
	[ -z "$bad" ] || { echo "keys in the environment of:$bad" >&2; return 1; }
}

tree() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		tree "$c"
	done
}

@test "secrets: the handlers and the daemon scrub the keys from their environment" {
	export FAL_KEY=$FALK API_KEYS=$APIK
	export FAL_QUEUE_URL=http://127.0.0.1:9 FAL_REST_URL=http://127.0.0.1:9
	i2m_start --no-daemon
	i2m_start_daemon || true
	handlers=$(pgrep -f "$I2M_TMP/bin/i2m-")
	[ -n "$handlers" ]
	no_key_in_env $handlers
	# Still known to them: FAL models listed, the API key required.
	code=$(req "$I2M_URL/api/v1/models/available")
	jq -e '.models | map(.provider) | index("fal") != null' "$BODY" >/dev/null
	code=$(req -X POST -d "" "$I2M_URL/api/v1/status/tasks/0123456789abcdef0123456789abcdef/cancel")
	[ "$code" = 401 ]
	code=$(req -X POST -d "" -H "Authorization: Bearer $APIK" "$I2M_URL/api/v1/status/tasks/0123456789abcdef0123456789abcdef/cancel")
	[ "$code" = 404 ]
}

@test "secrets: tools/run gives lighttpd, the handlers and the daemon no key in the environment" {
	RUNTMP=$(mktemp -d /tmp/i2m-runtest.XXXXXX)
	chmod 755 "$RUNTMP"
	mkdir "$RUNTMP/spool"
	[ "$(id -u)" != 0 ] || chown "$I2M_RUN_USER" "$RUNTMP/spool"
	PORT=$(_i2m_free_port)
	echo "DISK_FLOOR_MB=0" >"$RUNTMP/my.conf"
	chmod 644 "$RUNTMP/my.conf"
	proc_start run "$RUNTMP" env I2M_USER="$I2M_RUN_USER" I2M_CONFIG="$RUNTMP/my.conf" \
		FAL_KEY=$FALK API_KEYS=$APIK FAL_QUEUE_URL=http://127.0.0.1:9 FAL_REST_URL=http://127.0.0.1:9 \
		PORT="$PORT" SPOOL_DIR="$RUNTMP/spool" BUILD="${BUILD:-build}" TMPDIR="$RUNTMP" \
		"$PWD/tools/run"
	RUNPID=$(cat "$RUNTMP/pid.run")
	_i2m_wait_http "http://127.0.0.1:$PORT/api/v1/models/available" 200 30 || { cat "$RUNTMP/run.log"; return 1; }
	pids=$(tree "$RUNPID")
	[ "$(echo "$pids" | wc -w)" -ge 4 ]
	no_key_in_env $pids
	code=$(req "http://127.0.0.1:$PORT/api/v1/models/available")
	jq -e '.models | map(.provider) | index("fal") != null' "$BODY" >/dev/null
	code=$(req -X POST -d "" -H "Authorization: Bearer $APIK" "http://127.0.0.1:$PORT/api/v1/status/tasks/0123456789abcdef0123456789abcdef/cancel")
	[ "$code" = 404 ]
}
