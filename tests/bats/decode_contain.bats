#!/usr/bin/env bats
# decode_contain.bats: the offline model runs each conversion in its own
# process, i2m-convert, with memory and CPU limits (daemon/contain.c,
# daemon/convert.c), and a file
# whose run was interrupted twice is not run again (issue 10, finding 7).
# A crash, a signal or a memory limit costs the file, never the daemon,
# and the file's error says why.  The thumbnail's run (i2m-convert thumb,
# daemon/thumb.c) is contained the same way and costs only the thumbnail.

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
# A thumbnail's run ("i2m-convert thumb ...", daemon/thumb.c) is not a
# conversion: thumb_child is the one that catches those.
conv_child() { _child conv "${1:-0}"; }
thumb_child() { _child thumb "${1:-0}"; }
_child() {
	local c kind
	for c in $(pgrep -x i2m-convert -P "$(cat "$LOGS/pid.d1")"); do
		[ "$c" = "$2" ] && continue
		kind=conv
		tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q '^[^ ]* thumb ' && kind=thumb
		[ "$kind" = "$1" ] && echo "$c" && return 0
	done
	return 1
}

# Kill the first conversion child caught (other than $2) with signal $1;
# the files are 40-megapixel bombs, each taking a good part of a second.
# KIND=thumb catches a thumbnail's run instead.  Prints the pid.
kill_one_child() {
	local c i
	for i in $(seq 1 1200); do
		c=$(${KIND:-conv}_child "${2:-0}") && kill -"$1" "$c" && echo "$c" && return 0
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

@test "contain: a thumbnail's run that crashes costs the thumbnail only; the file completes" {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
	python3 tests/tools/bomb_png.py "$BATS_TEST_TMPDIR/bomb.png"
	id=$("$I2M" submit --model local "$BATS_TEST_TMPDIR/bomb.png")
	daemon_start d1
	KIND=thumb kill_one_child SEGV >/dev/null
	run "$I2M" wait "$id" --timeout 120
	[ "$status" -eq 0 ]
	[ "$(state "$id" 0 status)" = completed ]
	[ "$(state "$id" 0 thumbnail_file)" = null ]
	[ ! -e "$SPOOL_DIR/batches/$id/out/0.thumb.jpg" ]
	wait_for 10 grep -q "$id.0: no thumbnail: The conversion crashed (signal 11" "$LOGS/d1.log"
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
