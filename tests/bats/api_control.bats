#!/usr/bin/env bats
# api_control.bats: cancel, retry, readiness without a daemon, and SSE
# resume with Last-Event-ID across a daemon start.  The server starts
# without a daemon so that files stay queued until a test starts one.

load lib/server

setup_file() {
	i2m_start --no-daemon
}

@test "readiness: 503 naming the daemon when none runs" {
	code=$(req "$I2M_URL/api/v1/health/readiness")
	[ "$code" = 503 ]
	json_eq .error_code NOT_READY
	json_eq '.details.failing | join(",")' daemon
	json_eq .checks.spool.ok true
}

@test "cancel: queued files become cancelled and never reach a worker; retry queues them again" {
	id=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg")
	[ "$(ls "$SPOOL_DIR/q/new" | grep -c "$id")" = 2 ]
	code=$(req -d '' "$I2M_URL/api/v1/status/tasks/$id/cancel")
	[ "$code" = 200 ]
	json_eq .task_id "$id"
	json_eq '[.files[].status] | unique | join(",")' cancelled
	json_eq .status cancelled
	[ "$(ls "$SPOOL_DIR/q/new" | grep -c "$id")" = 0 ]
	code=$(req -d '' "$I2M_URL/api/v1/status/tasks/$id/retry")
	[ "$code" = 200 ]
	json_eq '[.files[].status] | unique | join(",")' queued
	[ "$(ls "$SPOOL_DIR/q/new" | grep -c "$id")" = 2 ]
	# Queued files are not retryable: nothing to do is 409.
	code=$(req -d '' "$I2M_URL/api/v1/status/tasks/$id/retry")
	[ "$code" = 409 ]
	# Cancel again so the daemon test below sees only its own batch.
	code=$(req -d '' "$I2M_URL/api/v1/status/tasks/$id/cancel")
	[ "$code" = 200 ]
}

@test "sse: reconnecting with Last-Event-ID misses nothing" {
	id=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg" "$FIX/chair.png")
	s1="$BATS_TEST_TMPDIR/s1"
	# First connection: the snapshot (all queued), then the client leaves.
	curl -s -N --max-time 4 "$I2M_URL/api/v1/status/tasks/$id/stream" >"$s1" || true
	events "$s1" >"$s1.ev"
	[ "$(grep -c $'\tfile_update\t' "$s1.ev")" = 3 ]
	last=$(tail -n 1 "$s1.ev" | cut -f1)
	[ "$last" = 3 ]
	i2m_start_daemon
	s2="$BATS_TEST_TMPDIR/s2"
	curl -s -N --max-time 90 -H "Last-Event-ID: $last" "$I2M_URL/api/v1/status/tasks/$id/stream" >"$s2"
	events "$s2" >"$s2.ev"
	[ "$(tail -n 1 "$s2.ev" | cut -f2)" = task_completed ]
	# Every event after the resume point, and each file's final state.
	[ "$(cut -f1 "$s2.ev" | sort -n | head -n 1)" -gt "$last" ]
	for i in 0 1 2; do
		grep $'\tfile_update\t' "$s2.ev" | cut -f3 |
			jq -s -e --arg i "$i" 'map(select(.file_id == $i and .status == "completed")) | length > 0' >/dev/null
	done
	# The status endpoint agrees.
	code=$(req "$I2M_URL/api/v1/status/tasks/$id/status")
	[ "$code" = 200 ]
	json_eq .status completed
	code=$(req "$I2M_URL/api/v1/health/readiness")
	[ "$code" = 200 ]
}

@test "readiness: 503 naming fal when a live daemon reports FAL rejected the key" {
	# A stand-in daemon: fresh heartbeat saying so, and its lock held.
	d="$SPOOL_DIR/daemons/d-fa1fa1fa1fa1"
	printf '{"daemon":"d-fa1fa1fa1fa1","heartbeat":%s,"fal_auth":"rejected"}\n' \
		"$(date +%s%3N)" >"$d.json"
	: >"$d.lock"
	chmod 644 "$d.json" "$d.lock"
	flock "$d.lock" sleep 20 3>&- &
	holder=$!
	sleep 0.2
	code=$(req "$I2M_URL/api/v1/health/readiness")
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	rm -f "$d.json" "$d.lock"
	[ "$code" = 503 ]
	json_eq '.details.failing | join(",")' fal
	[[ "$(jq -r .message "$BODY")" == *"FAL rejected the API key"* ]]
	json_eq .checks.daemon.ok true
}

@test "readiness: 503 naming fal and FAL's reason when a live daemon reports a locked account" {
	d="$SPOOL_DIR/daemons/d-fa1fa1fa1fa2"
	printf '{"daemon":"d-fa1fa1fa1fa2","heartbeat":%s,"fal_auth":"locked","fal_message":"User is locked. Reason: Exhausted balance."}\n' \
		"$(date +%s%3N)" >"$d.json"
	: >"$d.lock"
	chmod 644 "$d.json" "$d.lock"
	flock "$d.lock" sleep 20 3>&- &
	holder=$!
	# Wait until the stand-in holds its lock.
	for i in $(seq 1 100); do flock -n "$d.lock" true || break; sleep 0.05; done
	code=$(req "$I2M_URL/api/v1/health/readiness")
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	rm -f "$d.json" "$d.lock"
	[ "$code" = 503 ]
	[ "$(jq -r '.details.failing | join(",")' "$BODY")" = fal ]
	[[ "$(jq -r .message "$BODY")" == *"FAL refuses new work for this account: User is locked. Reason: Exhausted balance."* ]]
}
