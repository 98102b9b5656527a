#!/usr/bin/env bats
# sse_since.bats: the stream skips what the client already has.  The page
# reads the status object first and opens the stream with ?since=<its seq>;
# the stream then sends no file_update the page has shown.  Last-Event-ID
# (the browser's own reconnects) wins over ?since; a number we never gave
# out, or not a number, gives the whole snapshot.  The batch stays queued
# (no daemon) until the last test starts one.

load lib/server

setup_file() {
	i2m_start --no-daemon
}

setup() {
	OUT="$BATS_TEST_TMPDIR/s"
	CURL=
}

teardown() {
	[ -z "$CURL" ] || kill "$CURL" 2>/dev/null || true
}

count() { grep -c "^event: $1\$" "$OUT" || true; }

# open_stream QUERY [curl args]: the batch's stream into $OUT, in the background.
open_stream() {
	local q=$1
	shift
	curl -s -N --max-time 120 "$@" "$I2M_URL/api/v1/status/tasks/$ID/stream$q" >"$OUT" 3>&- &
	CURL=$!
}

# wait_for EVENT N: until $OUT holds N EVENT events (the first send is one
# flush, so what came with them is all there is until something changes).
wait_for() {
	local i
	for i in $(seq 1 300); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "no $2 $1 in: $(cat "$OUT")"
	return 1
}

@test "since: a queued batch of two, its status seq" {
	ID=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg")
	echo "$ID" >"$BATS_FILE_TMPDIR/id"
	[ "$(curl -s "$I2M_URL/api/v1/status/tasks/$ID/status" | jq .seq)" = 2 ]
}

@test "since: without it the stream replays every file" {
	ID=$(cat "$BATS_FILE_TMPDIR/id")
	open_stream ""
	wait_for file_update 2
	wait_for task_progress 2
}

@test "since: ?since=<status seq> sends progress only, no file the page has" {
	ID=$(cat "$BATS_FILE_TMPDIR/id")
	open_stream "?since=2"
	wait_for task_progress 1
	[ "$(count file_update)" = 0 ]
	grep -q '^id: 2$' "$OUT"
}

@test "since: ?since=1 sends only the file changed after 1" {
	ID=$(cat "$BATS_FILE_TMPDIR/id")
	open_stream "?since=1"
	wait_for task_progress 1
	[ "$(count file_update)" = 1 ]
	grep '^data: ' "$OUT" | head -n 1 | cut -c7- | jq -e '.file_id == "1"'
}

@test "since: Last-Event-ID wins over ?since" {
	ID=$(cat "$BATS_FILE_TMPDIR/id")
	open_stream "?since=2" -H 'Last-Event-ID: 0'
	wait_for file_update 2
}

@test "since: a number never given out, or not a number, gives everything" {
	ID=$(cat "$BATS_FILE_TMPDIR/id")
	open_stream "?since=999"
	wait_for file_update 2
	kill "$CURL"
	open_stream "?since=abc"
	wait_for file_update 2
}

@test "since: a finished batch streamed from its final seq gets task_completed only" {
	ID=$(cat "$BATS_FILE_TMPDIR/id")
	i2m_start_daemon
	i2m_wait_done "$ID" 60
	seq=$(curl -s "$I2M_URL/api/v1/status/tasks/$ID/status" | jq .seq)
	curl -s -N --max-time 60 "$I2M_URL/api/v1/status/tasks/$ID/stream?since=$seq" >"$OUT"
	[ "$(count file_update)" = 0 ]
	[ "$(count task_completed)" = 1 ]
	# Its result still lists both files.
	grep '^data: ' "$OUT" | tail -n 1 | cut -c7- | jq -e '.result.results | length == 2'
}
