#!/usr/bin/env bats
# decode_contain.bats: the offline model runs each conversion in its own
# process, i2m-convert, with memory and CPU limits (daemon/backend_local.c,
# daemon/convert.c), and a file
# whose run was interrupted twice is not run again (issue 10, finding 7).
# A crash, a signal or a memory limit costs the file, never the daemon,
# and the file's error says why.

load lib/common

setup() {
	BUILD_ABS=${BUILD_ABS:-$PWD/${BUILD:-build}}
	I2M="$BUILD_ABS/bin/i2m"
	export SPOOL_DIR="$BATS_TEST_TMPDIR/spool"
	export WORKERS=1
	export RETENTION_HOURS=0
	export DISK_FLOOR_MB=0
	unset I2M_CONFIG FAL_KEY DEFAULT_MODEL LOCAL_MEMORY_MB LOCAL_CPU_S
	FIX="$PWD/tests/fixtures"
	LOGS="$BATS_TEST_TMPDIR"
	mkdir -p "$SPOOL_DIR"
	san_init "$BATS_TEST_TMPDIR/san"
}

teardown() {
	daemons_stop
	! cat "$LOGS"/*.status 2>/dev/null | grep -q exit
	san_check "$BATS_TEST_TMPDIR/san" "$LOGS"/*.log
}

state() {	# state ID N FIELD
	jq -r ".$3" "$SPOOL_DIR/batches/$1/state/$2.json"
}

is_state() { [ "$(state "$1" "$2" status)" = "$3" ]; }

@test "contain: a file interrupted twice (daemon killed mid-run) fails with a reason, the others run" {
	id=$("$I2M" submit --model local "$FIX/chair.png" "$FIX/sneaker.jpg")
	# File 0's input becomes a FIFO nobody writes: its run blocks while
	# "processing", exactly like a run the daemon dies in.
	in0=$(ls "$SPOOL_DIR/batches/$id/in/0."*)
	rm "$in0" && mkfifo "$in0"
	for round in 1 2; do
		daemon_start "d$round"
		wait_for 30 is_state "$id" 0 processing
		daemon_stop "d$round" KILL
	done
	daemon_start d3
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 2 ]
	is_state "$id" 0 failed
	state "$id" 0 error | grep -q 'while converting this file 2 times, so it is not run again'
	[ "$(state "$id" 0 interrupted)" = 2 ]
	is_state "$id" 1 completed
	# A retry is the user's choice: the count starts again.
	rm "$in0" && cp "$FIX/chair.png" "$in0"
	"$I2M" retry "$id"
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
}

# The pid of the daemon's conversion child (i2m-convert: the formats
# helper i2m-formats is a child too), if one runs now (not $1,
# one already signalled, which may linger a moment as a zombie).
conv_child() {
	local c
	c=$(pgrep -x i2m-convert -P "$(cat "$LOGS/pid.d1")" | grep -vx "${1:-0}" | head -n 1)
	[ -n "$c" ] && echo "$c"
}

# Kill the first conversion child caught (other than $2) with signal $1;
# the files are 40-megapixel bombs, each taking a good part of a second.
# Prints the pid.
kill_one_child() {
	local c i
	for i in $(seq 1 1200); do
		c=$(conv_child "${2:-0}") && kill -"$1" "$c" && echo "$c" && return 0
		sleep 0.02
	done
	return 1
}

@test "contain: a conversion that crashes (SIGSEGV) fails its file with the signal; the daemon goes on" {
	# An ASan converter would catch the SEGV and report it (exit 1).
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
	python3 tests/tools/bomb_png.py "$BATS_TEST_TMPDIR/bomb.png"
	id=$("$I2M" submit --model local "$BATS_TEST_TMPDIR/bomb.png" \
		"$BATS_TEST_TMPDIR/bomb.png" "$BATS_TEST_TMPDIR/bomb.png" "$FIX/sneaker.jpg")
	daemon_start d1
	kill_one_child SEGV >/dev/null
	run "$I2M" wait "$id" --timeout 120
	[ "$status" -eq 2 ]
	cat "$SPOOL_DIR/batches/$id/state/"*.json | jq -r 'select(.status=="failed") | .error' >"$LOGS/errors"
	[ "$(wc -l <"$LOGS/errors")" -eq 1 ]
	grep -q 'The conversion crashed (signal 11, Segmentation fault)' "$LOGS/errors"
	[ "$(cat "$SPOOL_DIR/batches/$id/state/"*.json | jq -r .status | grep -c completed)" -eq 3 ]
	kill -0 "$(cat "$LOGS/pid.d1")"
}

@test "contain: the CPU-time signal (SIGXCPU) and a kill say so" {
	python3 tests/tools/bomb_png.py "$BATS_TEST_TMPDIR/bomb.png"
	export LOCAL_CPU_S=7
	id=$("$I2M" submit --model local "$BATS_TEST_TMPDIR/bomb.png" "$BATS_TEST_TMPDIR/bomb.png" \
		"$BATS_TEST_TMPDIR/bomb.png" "$BATS_TEST_TMPDIR/bomb.png")
	daemon_start d1
	first=$(kill_one_child XCPU)
	kill_one_child KILL "$first"
	run "$I2M" wait "$id" --timeout 120
	cat "$SPOOL_DIR/batches/$id/state/"*.json | jq -r 'select(.status=="failed") | .error' >"$LOGS/errors"
	grep -q 'used more than its 7 s of CPU time (LOCAL_CPU_S)' "$LOGS/errors"
	grep -q 'The conversion was killed (signal 9' "$LOGS/errors"
}

@test "contain: a memory limit too small fails the file with 'memory', the daemon stays up" {
	# valgrind's own memory lives inside the child's limit.
	[ "${VALGRIND:-0}" = 1 ] && skip "under valgrind"
	# An ASan converter reports a failed mmap instead of returning NULL.
	grep -q __asan_init "$BUILD_ABS/bin/i2m-convert" && skip "ASan build"
	export LOCAL_MEMORY_MB=16
	python3 tests/tools/bomb_png.py "$BATS_TEST_TMPDIR/bomb.png"
	id=$("$I2M" submit --model local "$BATS_TEST_TMPDIR/bomb.png")
	daemon_start d1
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 2 ]
	state "$id" 0 error | grep -q 'not enough memory to decode the image (6400×6250 pixels)'
	kill -0 "$(cat "$LOGS/pid.d1")"
}
