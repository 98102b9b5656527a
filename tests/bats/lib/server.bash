# tests/bats/lib/server.bash: start a real image2model (lighttpd + the
# FastCGI handlers + the daemon) on a temporary spool and a free port, for
# any bats suite.  Source it from a .bats file:
#
#   load lib/server
#   setup_file()    { i2m_start; }        # or i2m_start --no-daemon
#
# and the defaults at the end of this file do the rest: $FIX, $BODY and
# $HDR per test, i2m_stop in teardown_file.
#
# Functions:
#   i2m_start [--no-daemon]
#       Make $I2M_TMP (spool, runtime dir, copies of bin/ and www/), pick a
#       free port, start lighttpd -D (which spawns the handlers) and the
#       daemon, and wait until /health answers (and, with the daemon, until
#       /api/v1/health/readiness is 200).  Config keys set in the
#       environment before the call (MAX_FILES, MAX_FILE_BYTES, API_KEYS,
#       CORS_ORIGINS, FAL_KEY, FAL_QUEUE_URL, SSE_MAX_STREAMS, ...) reach every
#       program.  Exports: I2M_URL (http://127.0.0.1:PORT), PORT,
#       SPOOL_DIR, I2M_TMP, I2M_LOG (lighttpd + handler log),
#       I2M_DAEMON_LOG, I2M_BIN (the copied programs).
#   i2m_start_daemon / i2m_stop_daemon
#       Start / stop (SIGTERM, wait) only the daemon.
#   i2m_stop
#       Stop the daemon and lighttpd (its handlers exit with it), wait for
#       them, check that no process of this run is left and that no
#       sanitizer (ASan/UBSan builds) reported anything (san_check over
#       $I2M_TMP/san, where every program of the run reports, and the
#       logs), remove $I2M_TMP.
#   i2m_as_user CMD...
#       Run CMD as the unprivileged user the servers run as (root only;
#       otherwise it just runs CMD).
#   i2m_upload FILE...  [-F field=value ...]
#       POST the files to /api/v1/upload/; prints the JSON answer.
#   i2m_upload_id FILE...
#       Same, prints only the batch id.
#   i2m_wait_done ID [SECONDS]
#       Poll the status endpoint until every file is final (default 60 s).
#
# Environment read: BUILD_ABS (absolute build dir; default $PWD/build).
# When run as root (as CI does), lighttpd and the daemon run as "nobody"
# through setpriv and the run's files are chowned to it; the programs and
# www/ are copied into $I2M_TMP so that a checkout under /root works too.
# Servers are started by proc_start (lib/common) with 3>&- so bats does
# not wait for them.

source "${BASH_SOURCE[0]%/*}/common.bash"

I2M_RUN_USER=nobody

# _i2m_user_cmd CMD...: fills the array _cmd with CMD run as the user.
_i2m_user_cmd() {
	_cmd=("$@")
	if [ "$(id -u)" = 0 ]; then
		_cmd=(setpriv --reuid="$I2M_RUN_USER"
			--regid="$(id -gn "$I2M_RUN_USER")" --clear-groups "$@")
	fi
}

i2m_as_user() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$I2M_RUN_USER" --regid="$(id -gn "$I2M_RUN_USER")" \
			--clear-groups "$@"
	else
		"$@"
	fi
}

_i2m_free_port() {
	local p i lo
	# Below the kernel's ephemeral range: a port in it can be taken as the
	# local end of any outgoing connection (the suites open thousands)
	# between this check and lighttpd's bind ("Address already in use").
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 12000 ] || lo=32768
	for i in $(seq 1 50); do
		p=$((10000 + RANDOM % (lo - 10000)))
		if ! (exec 5<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# _i2m_wait_http URL CODE SECONDS
_i2m_wait_http() {
	local i code
	for i in $(seq 1 $(($3 * 10))); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)
		[ "$code" = "$2" ] && return 0
		sleep 0.1
	done
	echo "timeout waiting for $1 to answer $2 (last $code)" >&2
	return 1
}

i2m_start() {
	local root=${I2M_REPO:-$PWD}
	BUILD_ABS=${BUILD_ABS:-$root/build}
	I2M_TMP=$(mktemp -d /tmp/i2m-test.XXXXXX)
	chmod 755 "$I2M_TMP"
	export I2M_TMP
	mkdir -p "$I2M_TMP/run/upload" "$I2M_TMP/spool"
	san_init "$I2M_TMP/san"
	cp -r "$BUILD_ABS/bin" "$I2M_TMP/bin"
	cp -r "$root/www" "$I2M_TMP/www"
	cp "$root/lighttpd.conf" "$I2M_TMP/lighttpd.conf"
	: >"$I2M_TMP/image2model.conf"
	export I2M_CONFIG="$I2M_TMP/image2model.conf"
	export SPOOL_DIR="$I2M_TMP/spool"
	export I2M_WWW="$I2M_TMP/www" I2M_BIN="$I2M_TMP/bin" I2M_RUN="$I2M_TMP/run"
	export DISK_FLOOR_MB=${DISK_FLOOR_MB:-0}
	I2M_MAX_REQUEST_KB=$("$I2M_BIN/i2m" config MAX_REQUEST_KB) || return 1
	export I2M_MAX_REQUEST_KB
	export I2M_LOG="$I2M_TMP/lighttpd.log" I2M_DAEMON_LOG="$I2M_TMP/daemon.log"
	if [ "$(id -u)" = 0 ]; then
		chown -R "$I2M_RUN_USER:$(id -gn "$I2M_RUN_USER")" "$I2M_TMP"
	fi
	chmod 750 "$SPOOL_DIR"
	PORT=$(_i2m_free_port) || return 1
	export PORT
	export I2M_URL="http://127.0.0.1:$PORT"
	_i2m_user_cmd lighttpd -D -f "$I2M_TMP/lighttpd.conf"
	proc_start lighttpd "$I2M_TMP" "${_cmd[@]}" || return 1
	_i2m_wait_http "$I2M_URL/health" 200 20 || { cat "$I2M_LOG" >&2; return 1; }
	if [ "${1:-}" != --no-daemon ]; then
		i2m_start_daemon || return 1
	fi
}

i2m_start_daemon() {
	_i2m_user_cmd "$I2M_BIN/i2m-daemon"
	proc_start daemon "$I2M_TMP" "${_cmd[@]}" || return 1
	_i2m_wait_http "$I2M_URL/api/v1/health/readiness" 200 20 ||
		{ cat "$I2M_DAEMON_LOG" >&2; return 1; }
}

i2m_stop_daemon() {
	proc_stop daemon "$I2M_TMP" || true
}

i2m_stop() {
	local left i
	[ -n "${I2M_TMP:-}" ] && [ -d "$I2M_TMP" ] || return 0
	proc_stop daemon "$I2M_TMP" || true
	proc_stop lighttpd "$I2M_TMP" || true
	# The handlers leave with lighttpd; give them a moment, then check.
	for i in $(seq 1 50); do
		left=$(pgrep -f "$I2M_TMP/" || true)
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		echo "processes left behind: $left" >&2
		kill -KILL $left 2>/dev/null
	fi
	# A sanitizer report from a handler, the daemon or a CLI run fails.
	san_check "$I2M_TMP/san" "$I2M_LOG" "$I2M_DAEMON_LOG" || left="$left sanitizer"
	rm -rf "$I2M_TMP"
	[ -z "$left" ]
}

i2m_upload() {
	local args=() a
	for a in "$@"; do
		case $a in
		-F | -H) args+=("$a") ;;
		*=* | *:*) args+=("$a") ;;
		*) args+=(-F "files=@$a") ;;
		esac
	done
	curl -sS "${args[@]}" "$I2M_URL/api/v1/upload/"
}

i2m_upload_id() {
	i2m_upload "$@" | jq -r .batch_id
}

i2m_wait_done() {
	local i s
	for i in $(seq 1 $((${2:-60} * 10))); do
		s=$(curl -s "$I2M_URL/api/v1/status/tasks/$1/status" | jq -r .finished)
		[ "$s" = true ] && return 0
		sleep 0.1
	done
	echo "batch $1 not finished after ${2:-60} s" >&2
	return 1
}

# What most suites want around their tests, so that they need not copy it:
# the fixtures, $BODY and $HDR (lib/common's req) per test, and the server
# stopped after the last test.  A suite's own setup / teardown_file,
# defined after `load lib/server`, replaces these.
FIX="$PWD/tests/fixtures"
export FIX

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
}

teardown_file() {
	i2m_stop
}
