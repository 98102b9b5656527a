#!/usr/bin/env bats
# sse_capacity.bats: live progress streams at their limit, with a small
# capacity (SSE_MAX_STREAMS=200) and a short heartbeat (1 s):
#   - 200 streams on one batch all see a change; the 201st stream is
#     answered 503 with Retry-After (the contract's JSON) within a second;
#   - ?timeout=N ends a stream with connection_timeout, heartbeats before;
#   - the status object carries its seq as ETag and answers 304 to it;
#   - the processing page, while every slot is taken, falls back to
#     polling (a silent stream and a refused one) and finishes its batch.
# No daemon until the browser test asks for it, so batches stay queued.
# HOLD is a batch whose queue markers are removed: it stays queued even
# with the daemon running (recovery re-queues it only after 60 s), so
# streams on it hold their slots for as long as a test needs.

load lib/server

setup_file() {
	export SSE_MAX_STREAMS=200 SSE_HEARTBEAT_MS=1000
	i2m_start --no-daemon
	FIX="$PWD/tests/fixtures"
	HOLD=$(i2m_upload_id "$FIX/sneaker.jpg")
	rm -f "$SPOOL_DIR/q/new/$HOLD".*
	export FIX HOLD
}

teardown_file() {
	i2m_stop
}

setup() {
	WATCHERS=
}

teardown() {
	[ -z "$WATCHERS" ] || kill "$WATCHERS" 2>/dev/null || true
}

# watchers ID N OUT: N streams on ID in the background, until all have
# had their first event (each holds a slot from then on).  They start at
# the batch's seq, so what they get next is a change.
watchers() {
	local seq
	seq=$(curl -s "$I2M_URL/api/v1/status/tasks/$1/status" | jq -r .seq)
	python3 tests/bats/lib/sse_watchers.py "$I2M_URL" "$1" "$2" "$3" "?since=$seq" 3>&- &
	WATCHERS=$!
	wait_for 60 test -s "$3.ready" || { echo "the streams never all started"; cat "$3" 2>/dev/null; return 1; }
	[ "$(cat "$3.ready")" = "$2" ] || { echo "only $(cat "$3.ready") of $2 started"; return 1; }
}

# refused: one more stream gets 503 + Retry-After + JSON within a second.
refused() {
	local t
	t=$(curl -s -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/b" -w '%{http_code} %{time_total}' \
		--max-time 10 "$I2M_URL/api/v1/status/tasks/$HOLD/stream")
	echo "refused: $t"
	[ "${t%% *}" = 503 ]
	awk -v t="${t#* }" 'BEGIN { exit !(t < 1.0) }'
	grep -qi '^Retry-After: [0-9]' "$BATS_TEST_TMPDIR/h"
	json_eq '.error_code' TOO_MANY_STREAMS "$BATS_TEST_TMPDIR/b"
	json_eq '.status_code' 503 "$BATS_TEST_TMPDIR/b"
}

@test "capacity: 200 streams on one batch all see a change; the 201st gets 503 at once" {
	id=$(i2m_upload_id "$FIX/chair.png")
	out="$BATS_TEST_TMPDIR/w"
	watchers "$id" 200 "$out"
	refused
	req -X POST -d '' "$I2M_URL/api/v1/status/tasks/$id/cancel" >/dev/null
	wait_for 60 test -s "$out" || { echo "not every stream saw the change"; return 1; }
	json_eq '.changed' 200 "$out"
	json_eq '.statuses | join(",")' cancelled "$out"
	json_eq '.errors | length' 0 "$out"
	# The streams ended with their batch: the slots are free again.
	wait_for 20 sh -c "curl -s -N --max-time 5 '$I2M_URL/api/v1/status/tasks/$HOLD/stream?timeout=1' | grep -q '^event: task_progress'"
}

@test "capacity: ?timeout=2 ends the stream with connection_timeout, heartbeats before it" {
	out="$BATS_TEST_TMPDIR/t"
	s=$(date +%s%N)
	curl -s -N --max-time 30 "$I2M_URL/api/v1/status/tasks/$HOLD/stream?timeout=2" >"$out"
	e=$(date +%s%N)
	events "$out" >"$out.ev"
	cat "$out.ev"
	[ "$(tail -n 1 "$out.ev" | cut -f2)" = connection_timeout ]
	tail -n 1 "$out.ev" | cut -f3 | jq -e --arg id "$HOLD" '.timeout == 2 and .batch_id == $id and (.message | length) > 0' >/dev/null
	grep -q $'\theartbeat\t' "$out.ev"
	# Not before its time, and well before curl's own limit.
	[ $(((e - s) / 1000000)) -ge 1900 ]
	[ $(((e - s) / 1000000)) -lt 25000 ]
}

@test "capacity: a bad ?timeout is a 400, not a stream" {
	code=$(req --max-time 5 "$I2M_URL/api/v1/status/tasks/$HOLD/stream?timeout=soon")
	[ "$code" = 400 ]
	json_eq .error_code INVALID_PARAMETER
	code=$(req --max-time 5 "$I2M_URL/api/v1/status/tasks/$HOLD/stream?timeout=0")
	[ "$code" = 400 ]
}

@test "status: the ETag is the batch's seq and URL base; If-None-Match with it gives 304 without a body" {
	code=$(req "$I2M_URL/api/v1/status/tasks/$HOLD/status")
	[ "$code" = 200 ]
	seq=$(jq -r .seq "$BATS_TEST_TMPDIR/body")
	etag=$(awk 'tolower($1) == "etag:" {print $2}' "$BATS_TEST_TMPDIR/hdr" | tr -d '\r')
	[[ $etag =~ ^\"$seq-[0-9a-f]{8}\"$ ]]
	grep -qi '^Cache-Control: no-cache' "$BATS_TEST_TMPDIR/hdr"
	code=$(BODY="$BATS_TEST_TMPDIR/b304" req -H "If-None-Match: $etag" "$I2M_URL/api/v1/status/tasks/$HOLD/status")
	[ "$code" = 304 ]
	[ ! -s "$BATS_TEST_TMPDIR/b304" ]
	# Another seq is another state: the whole object again.
	code=$(req -H "If-None-Match: \"$((seq + 1))-${etag:$((${#seq} + 2)):8}\"" "$I2M_URL/api/v1/status/tasks/$HOLD/status")
	[ "$code" = 200 ]
	json_eq .seq "$seq"
	# Another Host is another body (its URLs): never a 304 for the old one.
	code=$(req -H "Host: models.example" -H "If-None-Match: $etag" "$I2M_URL/api/v1/status/tasks/$HOLD/status")
	[ "$code" = 200 ]
}

@test "capacity: with every slot taken the page polls and still finishes its batch" {
	[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: run tools/deps"; false; }
	id=$(i2m_upload_id "$FIX/sneaker.jpg")
	# A fresh batch to hold on to: recovery leaves it alone for 60 s.
	hold=$(i2m_upload_id "$FIX/sneaker.jpg")
	rm -f "$SPOOL_DIR/q/new/$hold".*
	watchers "$hold" 200 "$BATS_TEST_TMPDIR/hold"
	refused
	export START_DAEMON="$BATS_TEST_TMPDIR/start-daemon"
	timeout 120 node tests/browser/m_streams_full.js "$I2M_URL" "$id" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	node_pid=$!
	wait_for 100 sh -c "[ -f '$START_DAEMON' ] || ! kill -0 $node_pid 2>/dev/null" || true
	[ -f "$START_DAEMON" ] && i2m_start_daemon
	rc=0
	wait "$node_pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$rc" -eq 0 ]
	# The slots were taken all along.
	[ ! -s "$BATS_TEST_TMPDIR/hold" ]
	kill -0 "$WATCHERS"
}
