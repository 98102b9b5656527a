#!/usr/bin/env bats
# api_stream.bats: Server-Sent Events (GET /api/v1/status/tasks/{id}/stream)
# against lighttpd + handlers + daemon: every file reaches completed and
# then task_completed ends the stream; late joiners get the state first;
# 50 streams on one batch while status polls keep answering.

load lib/server

setup_file() {
	i2m_start
}

# check_complete FILE NFILES: a whole stream of a batch of NFILES.
check_complete() {
	local f=$1 n=$2 i ids
	events "$f" >"$f.ev"
	[ "$(tail -n 1 "$f.ev" | cut -f2)" = task_completed ] || { echo "last event: $(tail -n 1 "$f.ev")"; return 1; }
	[ "$(grep -c $'\ttask_completed\t' "$f.ev")" = 1 ]
	for i in $(seq 0 $((n - 1))); do
		grep $'\tfile_update\t' "$f.ev" | cut -f3 |
			jq -s -e --arg i "$i" 'map(select(.file_id == $i and .status == "completed" and (.model_url | test("^http://127\\.0\\.0\\.1:[0-9]+/api/v1/download/")))) | length > 0' >/dev/null ||
			{ echo "file $i never completed"; return 1; }
	done
	# Ids on every event, never decreasing.
	ids=$(cut -f1 "$f.ev")
	[ -z "$(grep -vE '^[0-9]+$' <<<"$ids")" ]
	[ "$ids" = "$(sort -n <<<"$ids")" ]
	tail -n 1 "$f.ev" | cut -f3 | jq -e --argjson n "$n" '.status == "completed" and .progress == 100 and
		.result.successful_files == $n and .summary.total_files == $n and
		(.result.results | length) == $n and .task_id == .batch_id and .timestamp > 0' >/dev/null
}

@test "sse: every file goes to completed, then task_completed ends the stream" {
	id=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg" "$FIX/chair.png")
	out="$BATS_TEST_TMPDIR/s"
	curl -s -N -D "$out.h" --max-time 90 "$I2M_URL/api/v1/status/tasks/$id/stream" >"$out"
	grep -qi '^Content-Type: text/event-stream' "$out.h"
	[ "$(head -n 1 "$out")" = "retry: 2000" ]
	check_complete "$out" 3
	# Every file_update is followed by a task_progress.
	events "$out" | cut -f2 | grep -v task_completed | paste - - | grep -qv $'file_update\ttask_progress' && return 1
	true
}

@test "sse: a late joiner gets the current state first, and the stream ends" {
	id=$(i2m_upload_id "$FIX/sneaker.jpg" "$FIX/sneaker.jpg")
	i2m_wait_done "$id" 60
	out="$BATS_TEST_TMPDIR/late"
	curl -s -N --max-time 10 "$I2M_URL/api/v1/status/tasks/$id/stream" >"$out"
	check_complete "$out" 2
	[ "$(events "$out" | grep -c $'\tfile_update\t')" = 2 ]
}

@test "sse: Last-Event-ID beyond what was given gives a fresh snapshot" {
	id=$(i2m_upload_id "$FIX/sneaker.jpg")
	i2m_wait_done "$id" 60
	out="$BATS_TEST_TMPDIR/fresh"
	curl -s -N --max-time 10 -H 'Last-Event-ID: 999999' "$I2M_URL/api/v1/status/tasks/$id/stream" >"$out"
	check_complete "$out" 1
}

@test "sse: unknown id is 404 JSON, not a stream" {
	code=$(curl -s -o "$BATS_TEST_TMPDIR/b" -w '%{http_code}' --max-time 5 \
		"$I2M_URL/api/v1/status/tasks/0123456789abcdef0123456789abcdef/stream")
	[ "$code" = 404 ]
	[ "$(jq -r .error_code "$BATS_TEST_TMPDIR/b")" = TASK_NOT_FOUND ]
}

@test "sse: 50 clients on one batch while status polls still answer" {
	id=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg" "$FIX/chair.png" "$FIX/sneaker.jpg")
	pids=()
	for i in $(seq 1 50); do
		curl -s -N --max-time 120 "$I2M_URL/api/v1/status/tasks/$id/stream" \
			>"$BATS_TEST_TMPDIR/c$i" 3>&- &
		pids+=($!)
	done
	sleep 0.5
	# Polls answer promptly while 50 streams are open.
	for i in $(seq 1 40); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$I2M_URL/api/v1/status/tasks/$id/status")
		[ "$code" = 200 ]
	done
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$I2M_URL/health")
	[ "$code" = 200 ]
	for p in "${pids[@]}"; do wait "$p"; done
	for i in $(seq 1 50); do
		check_complete "$BATS_TEST_TMPDIR/c$i" 4 || { echo "client $i"; return 1; }
	done
}

@test "sse: a client that goes away frees its stream" {
	id=$(i2m_upload_id "$FIX/chair.png")
	i2m_wait_done "$id" 60
	# A queued-forever batch keeps a stream open: fake one with a status
	# that never finishes by streaming a batch whose file we hold queued.
	before=$(ls /proc/"$(pgrep -f "$I2M_TMP/bin/i2m-sse.fcgi" | head -n 1)"/fd | wc -l)
	for i in $(seq 1 20); do
		curl -s -N --max-time 1 "$I2M_URL/api/v1/status/tasks/$id/stream" >/dev/null 3>&- || true
	done
	sleep 1
	after=$(ls /proc/"$(pgrep -f "$I2M_TMP/bin/i2m-sse.fcgi" | head -n 1)"/fd | wc -l)
	[ "$after" -le $((before + 2)) ]
}
