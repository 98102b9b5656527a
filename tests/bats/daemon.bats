#!/usr/bin/env bats
# daemon.bats: the daemon and the CLI against a real spool, no web server.
# Claims, recovery and shutdown are judged from the spool itself and the
# daemon's log lines ("<id>.<n>: start", "<id>.<n>: completed").
#
# Env: BUILD_ABS (default ./build made absolute); VALGRIND=1 runs the
# daemon under valgrind.

load lib/common

setup() {
	BUILD_ABS=${BUILD_ABS:-$PWD/${BUILD:-build}}
	I2M="$BUILD_ABS/bin/i2m"
	export SPOOL_DIR="$BATS_TEST_TMPDIR/spool"
	export WORKERS=4
	export RETENTION_HOURS=0
	export DISK_FLOOR_MB=0
	unset I2M_CONFIG FAL_KEY DEFAULT_MODEL
	FIX="$PWD/tests/fixtures"
	LOGS="$BATS_TEST_TMPDIR"
	mkdir -p "$SPOOL_DIR"
	san_init "$BATS_TEST_TMPDIR/san"
}

teardown() {
	# A clean stop also checks that shutdown works (and, under valgrind,
	# that it leaks nothing): a daemon that fails to stop fails the test.
	daemons_stop
	! cat "$LOGS"/*.status 2>/dev/null | grep -q exit
	san_check "$BATS_TEST_TMPDIR/san" "$LOGS"/*.log
}

# Submit N copies of an image as one batch; prints the batch id.
submit_copies() {
	local n=$1 img=$2 i files=()
	shift 2
	for i in $(seq 1 "$n"); do files+=("$img"); done
	"$I2M" submit "$@" "${files[@]}"
}

# Every marker's "completed"/"failed" lines over all logs, once each.
assert_finished_once() {
	local dups
	dups=$(cat "$LOGS"/*.log | grep -oE '[0-9a-f]{32}\.[0-9]+: (completed|failed|cancelled)' |
		cut -d: -f1 | sort | uniq -d)
	[ -z "$dups" ] || { echo "finished twice: $dups"; return 1; }
}

count_state() {	# count_state STATE: files in that state over all batches
	cat "$SPOOL_DIR"/batches/*/state/*.json | jq -r .status | grep -cx "$1" || true
}

@test "daemon: 3 samples with the CLI give 3 valid GLBs" {
	daemon_start d1
	id=$("$I2M" submit "$FIX/chair.png" "$FIX/sneaker.jpg" "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$(ls "$SPOOL_DIR/batches/$id/out/"*.glb | wc -l)" -eq 3 ]
	node tests/tools/validate.js "$SPOOL_DIR/batches/$id/out/"*.glb
	run "$I2M" --json show "$id"
	[ "$(echo "$output" | jq -r .result_status)" = completed ]
	[ "$(echo "$output" | jq '[.files[].file_size > 1000] | all')" = true ]
}

@test "daemon: a truncated JPEG and a text file named .png fail with clear reasons, the rest complete" {
	head -c 20000 "$FIX/sneaker.jpg" >"$BATS_TEST_TMPDIR/cut.jpg"
	# i2m submit refuses text (the one submission rule); plant it in the
	# spool behind it, as a bad disk or a hand edit would.
	id=$("$I2M" submit "$FIX/chair.png" "$BATS_TEST_TMPDIR/cut.jpg" \
		"$FIX/chair.png" "$FIX/sneaker.jpg")
	echo "just some text" >"$SPOOL_DIR/batches/$id/in/2.png"
	daemon_start d1
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 2 ]
	run "$I2M" --json show "$id"
	s=$output
	[ "$(echo "$s" | jq -r .result_status)" = partially_completed ]
	[ "$(echo "$s" | jq -r '.files[0].status')" = completed ]
	[ "$(echo "$s" | jq -r '.files[3].status')" = completed ]
	[ "$(echo "$s" | jq -r '.files[1].status')" = failed ]
	echo "$s" | jq -r '.files[1].error' | grep -qi 'truncated'
	[ "$(echo "$s" | jq -r '.files[2].status')" = failed ]
	echo "$s" | jq -r '.files[2].error' | grep -q 'not a JPEG, PNG or WebP'
}

@test "daemon: 200 jobs dropped into the queue at once are processed exactly once" {
	# All 200 markers are in q/new before the daemon starts: nothing of
	# the test's own races its claims (markers held elsewhere would be
	# "lost" and queued again after a minute under load).
	for b in 1 2 3 4 5 6 7 8; do
		submit_copies 25 "$FIX/chair.png" --model local --param resolution=32 >/dev/null
	done
	[ "$(ls "$SPOOL_DIR/q/new" | wc -l)" -eq 200 ]
	daemon_start d1
	for id in $(ls "$SPOOL_DIR/batches"); do
		"$I2M" wait "$id" --timeout 120
	done
	[ "$(count_state completed)" -eq 200 ]
	[ "$(grep -cE ': start ' "$LOGS/d1.log")" -eq 200 ]
	[ "$(grep -oE '[0-9a-f]{32}\.[0-9]+: start' "$LOGS/d1.log" | sort -u | wc -l)" -eq 200 ]
	assert_finished_once
	[ -z "$(ls "$SPOOL_DIR/q/new")" ]
}

@test "daemon: jobs queued while it is down are processed when it starts" {
	id=$("$I2M" submit "$FIX/chair.png" "$FIX/sneaker.jpg")
	[ "$(ls "$SPOOL_DIR/q/new" | wc -l)" -eq 2 ]
	[ "$(count_state queued)" -eq 2 ]
	daemon_start d1
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
}

@test "daemon: kill -9 mid-batch, restart: every file completes, none twice" {
	export WORKERS=2
	id=$(submit_copies 25 "$FIX/sneaker.jpg" --model local --param resolution=256)
	daemon_start d1
	for i in $(seq 1 200); do
		grep -q ': completed' "$LOGS/d1.log" 2>/dev/null && break
		sleep 0.05
	done
	daemon_stop d1 KILL
	# Killed with files claimed and half done.
	[ "$(count_state completed)" -lt 25 ]
	[ -n "$(ls "$SPOOL_DIR"/q/cur/*/ 2>/dev/null)" ]
	daemon_start d2
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
	grep -q 'recovered from dead daemon' "$LOGS/d2.log"
	[ "$(count_state completed)" -eq 25 ]
	assert_finished_once
}

@test "daemon: two daemons on one spool never process the same file" {
	export WORKERS=2
	ids=()
	for b in 1 2 3; do
		ids+=("$(submit_copies 25 "$FIX/chair.png" --model local --param resolution=48)")
	done
	daemon_start d1
	daemon_start d2
	for id in "${ids[@]}"; do "$I2M" wait "$id" --timeout 120; done
	starts=$(cat "$LOGS/d1.log" "$LOGS/d2.log" | grep -oE '[0-9a-f]{32}\.[0-9]+: start')
	[ "$(echo "$starts" | wc -l)" -eq 75 ]
	[ "$(echo "$starts" | sort -u | wc -l)" -eq 75 ]
	# Both took part.
	grep -q ': start' "$LOGS/d1.log"
	grep -q ': start' "$LOGS/d2.log"
	assert_finished_once
}

@test "daemon: SIGTERM loses nothing and leaves no claim behind" {
	export WORKERS=2
	id=$(submit_copies 25 "$FIX/sneaker.jpg" --model local --param resolution=192)
	daemon_start d1
	for i in $(seq 1 200); do
		grep -q ': completed' "$LOGS/d1.log" 2>/dev/null && break
		sleep 0.05
	done
	daemon_stop d1 TERM
	[ ! -f "$LOGS/d1.status" ]	# exit status 0
	grep -q 'stopped' "$LOGS/d1.log"
	# Nothing claimed, nothing registered; every file done or waiting.
	[ -z "$(ls "$SPOOL_DIR/q/cur")" ]
	[ -z "$(ls "$SPOOL_DIR/daemons")" ]
	done_n=$(count_state completed)
	[ "$done_n" -lt 25 ]
	[ $((done_n + $(ls "$SPOOL_DIR/q/new" | wc -l))) -eq 25 ]
	daemon_start d2
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
	assert_finished_once
}

@test "daemon: cancel withdraws queued files and retry brings them back" {
	id=$(submit_copies 5 "$FIX/chair.png" --model local --param resolution=32)
	run "$I2M" cancel "$id"
	[ "$status" -eq 0 ]
	[ "$(count_state cancelled)" -eq 5 ]
	[ -z "$(ls "$SPOOL_DIR/q/new")" ]
	daemon_start d1
	sleep 0.5
	! grep -q ': start' "$LOGS/d1.log"
	run "$I2M" retry "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"5 files queued again"* ]]
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	run "$I2M" retry "$id"
	[[ "$output" == *"0 files"* ]]
}

@test "daemon: a queued file that lost its marker is queued again" {
	id=$("$I2M" submit "$FIX/chair.png")
	rm "$SPOOL_DIR/q/new/$id.0"
	# As if the submitter died before placing the marker, a while ago.
	st="$SPOOL_DIR/batches/$id/state/0.json"
	jq '.updated = 1000' "$st" >"$st.new" && mv "$st.new" "$st"
	daemon_start d1
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	grep -q 'had no marker' "$LOGS/d1.log"
}

@test "daemon: batches past RETENTION_HOURS are removed whole" {
	old=$("$I2M" submit "$FIX/chair.png")
	new=$("$I2M" submit "$FIX/chair.png")
	b="$SPOOL_DIR/batches/$old/batch.json"
	jq '.created = 1000' "$b" >"$b.new" && mv "$b.new" "$b"
	export RETENTION_HOURS=1
	daemon_start d1
	run "$I2M" wait "$new" --timeout 30
	[ "$status" -eq 0 ]
	[ ! -e "$SPOOL_DIR/batches/$old" ]
	[ -z "$(ls "$SPOOL_DIR/trash")" ]
}

@test "daemon: below DISK_FLOOR_MB new work is refused and nothing is left" {
	DISK_FLOOR_MB=999999999 run "$I2M" submit "$FIX/chair.png"
	[ "$status" -eq 111 ]
	[[ "$output" == *"DISK_FLOOR_MB"* ]]
	[ -z "$(ls "$SPOOL_DIR/batches")" ]
	[ -z "$(ls "$SPOOL_DIR/tmp")" ]
	[ -z "$(ls "$SPOOL_DIR/q/new")" ]
}

@test "daemon: bad configuration names the key and exits non-zero" {
	WORKERS=lots run "$BUILD_ABS/bin/i2m-daemon"
	[ "$status" -eq 1 ]
	[[ "$output" == *"WORKERS"* ]]
	printf 'PORT=8080\nWROKERS=3\n' >"$BATS_TEST_TMPDIR/bad.conf"
	I2M_CONFIG="$BATS_TEST_TMPDIR/bad.conf" run "$BUILD_ABS/bin/i2m-daemon"
	[ "$status" -eq 1 ]
	[[ "$output" == *"WROKERS"* ]]
}

@test "daemon: heartbeat file names the daemon and its lock is held" {
	daemon_start d1
	for i in $(seq 1 50); do
		ls "$SPOOL_DIR"/daemons/*.json >/dev/null 2>&1 && break
		sleep 0.1
	done
	hb=$(ls "$SPOOL_DIR"/daemons/*.json)
	[ "$(jq -r .pid "$hb")" = "$(cat "$BATS_TEST_TMPDIR/pid.d1")" ] || [ "${VALGRIND:-0}" = 1 ]
	lock="${hb%.json}.lock"
	run flock -n "$lock" true
	[ "$status" -ne 0 ]
}

@test "config: i2m config prints resolved values and the derived request limit, never a secret" {
	printf 'PORT=9001\nMAX_FILES=3\n' >"$BATS_TEST_TMPDIR/c.conf"
	export I2M_CONFIG="$BATS_TEST_TMPDIR/c.conf"
	run "$I2M" config PORT
	[ "$status" -eq 0 ]
	[ "$output" = 9001 ]
	# The environment wins over the file; the limit follows both.
	MAX_FILE_BYTES=1000 run "$I2M" config MAX_REQUEST_KB
	[ "$output" = $(((3 * (1000 + 65536) + 1048576) / 1024 + 1)) ]
	MAX_FILES=2 MAX_FILE_BYTES=1000 run "$I2M" config MAX_REQUEST_BYTES
	[ "$output" = $((2 * (1000 + 65536) + 1048576)) ]
	FAL_KEY=fal-secret-0123 run "$I2M" config FAL_KEY
	[ "$status" -eq 1 ]
	[[ "$output" != *fal-secret-0123* ]]
	FAL_KEY=fal-secret-0123 run "$I2M" config
	[ "$status" -eq 0 ]
	[[ "$output" == *"MAX_FILES=3"* ]]
	[[ "$output" != *fal-secret-0123* ]]
	run "$I2M" config NO_SUCH_KEY
	[ "$status" -eq 1 ]
	[[ "$output" == *NO_SUCH_KEY* ]]
	# It never creates the spool.
	SPOOL_DIR="$BATS_TEST_TMPDIR/none" run "$I2M" config SPOOL_DIR
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
}

@test "config: FAL_TIMEOUT_MS and LOG_LEVEL are checked like every key; warn drops info lines" {
	FAL_TIMEOUT_MS=5 run "$BUILD_ABS/bin/i2m-daemon"
	[ "$status" -eq 1 ]
	[[ "$output" == *FAL_TIMEOUT_MS* ]]
	LOG_LEVEL=loud run "$BUILD_ABS/bin/i2m-daemon"
	[ "$status" -eq 1 ]
	[[ "$output" == *LOG_LEVEL* ]]
	export LOG_LEVEL=warn
	daemon_start d1
	id=$("$I2M" submit --model local --param resolution=32 "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	! grep -q ': info: ' "$LOGS/d1.log"
}
