# tests/bats/lib/common.bash: what every bats suite shares, so a helper is
# written once.  `load lib/common` (lib/server loads it too).
#
# HTTP (the status code to stdout, the body to $BODY, the headers to $HDR;
# both default to files in $BATS_TEST_TMPDIR):
#   req ARGS...            curl -s with ARGS (POSTs send -d "": lighttpd
#                          answers 411 to a POST without a length)
#   reqo FILE ARGS...      the same with the body into FILE
#   json_eq FILTER WANT [FILE]
#                          jq -r FILTER of FILE (default $BODY) is WANT;
#                          on failure prints want, got and the body
#   events FILE            an SSE stream as lines "id<TAB>event<TAB>data"
#   wait_for SECONDS CMD...  poll until CMD succeeds (every 50 ms)
#
# Processes (each one's stdout+stderr in DIR/NAME.log, its pid in
# DIR/pid.NAME, its exit status in DIR/NAME.rc once it has ended; it runs
# with DIR as its working directory and without bats' fd 3):
#   proc_start NAME DIR CMD...
#   proc_stop NAME DIR [SIGNAL]   signal it (TERM), wait for its end (30 s,
#                          then KILL); returns its exit status
#   daemon_start NAME      i2m-daemon ($I2M_BIN, else $BUILD_ABS/bin) in
#                          $LOGS (VALGRIND=1: under valgrind)
#   daemon_stop NAME [SIGNAL]  stop it; a TERM that does not end in status 0
#                          leaves "exit N" in $LOGS/NAME.status
#   daemons_stop           stop every daemon still running in $LOGS
#
# Sanitizers (ASan/UBSan builds): san_init DIR sends every report of every
# program started afterwards into DIR (log_path), whatever its stderr goes
# to; san_check DIR [LOG...] fails, printing them, when DIR or a LOG holds
# a report.  Suites call both in their setup and teardown.

req() {
	curl -s -D "${HDR:-$BATS_TEST_TMPDIR/hdr}" -o "${BODY:-$BATS_TEST_TMPDIR/body}" \
		-w '%{http_code}' "$@"
}

reqo() {
	local f=$1
	shift
	curl -s -D "${HDR:-$BATS_TEST_TMPDIR/hdr}" -o "$f" -w '%{http_code}' "$@"
}

json_eq() {
	local f=${3:-${BODY:-$BATS_TEST_TMPDIR/body}} got
	got=$(jq -r "$1" "$f" 2>&1)
	[ "$got" = "$2" ] && return 0
	{
		echo "json_eq $1"
		echo "  want: $2"
		echo "  got:  $got"
		echo "  body: $(head -c 2000 "$f")"
	} >&2
	return 1
}

events() {
	awk 'BEGIN { id = ""; ev = ""; d = "" }
		/^id: / { id = substr($0, 5) }
		/^event: / { ev = substr($0, 8) }
		/^data: / { d = substr($0, 7) }
		/^$/ { if (ev != "") print id "\t" ev "\t" d; id = ""; ev = ""; d = "" }' "$1"
}

wait_for() {
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

proc_start() {
	local name=$1 dir=$2 i
	shift 2
	rm -f "$dir/pid.$name" "$dir/$name.rc"
	# The wrapper waits for the program and records how it ended, so
	# any later test (not only the starting shell) can stop it.
	(
		cd "$dir" || exit 1
		"$@" >>"$dir/$name.log" 2>&1 &
		echo $! >"$dir/pid.$name.new"
		mv "$dir/pid.$name.new" "$dir/pid.$name"
		wait $!
		echo $? >"$dir/$name.rc.new"
		mv "$dir/$name.rc.new" "$dir/$name.rc"
	) 3>&- &
	for i in $(seq 1 200); do
		[ -s "$dir/pid.$name" ] && return 0
		sleep 0.05
	done
	echo "proc_start $name: no pid after 10 s" >&2
	return 1
}

proc_stop() {
	local name=$1 dir=$2 sig=${3:-TERM} pid i
	[ -f "$dir/pid.$name" ] || return 0
	pid=$(cat "$dir/pid.$name")
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 1 600); do
		[ -f "$dir/$name.rc" ] && break
		sleep 0.05
	done
	if [ ! -f "$dir/$name.rc" ]; then
		echo "$name (pid $pid) did not end on SIG$sig within 30 s" >&2
		kill -KILL "$pid" 2>/dev/null
		wait_for 10 test -f "$dir/$name.rc"
	fi
	rm -f "$dir/pid.$name"
	return "$(cat "$dir/$name.rc" 2>/dev/null || echo 1)"
}

daemon_start() {
	local wrap=()
	if [ "${VALGRIND:-0}" = 1 ]; then
		wrap=(valgrind -q --error-exitcode=99 --leak-check=full
			--errors-for-leak-kinds=definite)
	fi
	proc_start "$1" "$LOGS" "${wrap[@]}" "${I2M_BIN:-$BUILD_ABS/bin}/i2m-daemon"
}

daemon_stop() {
	local rc=0
	proc_stop "$1" "$LOGS" "${2:-TERM}" || rc=$?
	if [ "${2:-TERM}" != KILL ] && [ "$rc" -ne 0 ]; then
		echo "exit $rc" >>"$LOGS/$1.status"
	fi
	return 0
}

daemons_stop() {
	local f
	for f in "$LOGS"/pid.*; do
		[ -f "$f" ] || continue
		daemon_stop "${f##*/pid.}"
	done
}

san_init() {
	mkdir -p "$1"
	chmod 1777 "$1"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$1/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$1/ubsan"
}

# A report file holding nothing but LeakSanitizer's tracer complaining
# that it cannot stop a thread is a process killed (the kill -9 tests, or
# a child dying with the daemon they killed) in the middle of its
# exit-time leak check: the test's own kill, not a finding.
san_real() {
	local f
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		grep -qvE '^(==[0-9]+==Unable to get registers from thread [0-9]+\.)?$' "$f" && echo "$f"
	done
}

san_check() {
	local dir=$1 found= real
	shift
	real=$(san_real "$dir")
	if [ -n "$real" ]; then
		found=1
		# shellcheck disable=SC2086 # report file names have no spaces
		head -n 40 $real >&2
	fi
	if [ $# -gt 0 ] && grep -qsE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$@"; then
		found=1
		grep -hsE -A20 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$@" >&2
	fi
	[ -z "$found" ] || { echo "sanitizer reports (above)" >&2; return 1; }
}
