# tests/fal_double/helpers.bash: the FAL test double and the daemon for
# the tests/bats/fal_*.bats suites.  Load with `load ../fal_double/helpers`.
#
#   fal_double_start / fal_double_stop     in setup_file / teardown_file
#   fal_setup / fal_teardown               in setup / teardown (fresh spool,
#                                          double reset, daemons stopped)
#   fal_daemon NAME                        start i2m-daemon, log to NAME.log
#   fal_stop NAME [SIGNAL]                 stop it and wait
#   fal_ctl PATH [JSON]                    POST JSON to /_control/PATH
#   fal_state                              GET /_control/state (JSON)
#   fal_fault OP KIND [COUNT] [MORE-JSON]  add one fault rule
#   fal_file_json ID N                     state/<n>.json of a batch
#   fal_paid_once N                        N billed, all downloaded, no
#                                          image submitted twice
#
# The daemon is configured by env as in production: FAL_KEY, FAL_QUEUE_URL,
# FAL_REST_URL point at the double; polls and backoff are short.

# Daemons start and stop through the launcher every suite shares.
source "${BASH_SOURCE[0]%/*}/../bats/lib/common.bash"

FAL_TEST_KEY="fal-test-key-3f9c2a71d0e84b56"

fal_double_start() {
	local i
	export FAL_DOUBLE_DIR="$BATS_FILE_TMPDIR/fal_double"
	mkdir -p "$FAL_DOUBLE_DIR"
	python3 "$PWD/tests/fal_double/fal_double.py" --key "$FAL_TEST_KEY" \
		--portfile "$FAL_DOUBLE_DIR/port" 2>"$FAL_DOUBLE_DIR/log" 3>&- &
	echo $! >"$FAL_DOUBLE_DIR/pid"
	for i in $(seq 1 100); do
		[ -s "$FAL_DOUBLE_DIR/port" ] && break
		sleep 0.05
	done
	[ -s "$FAL_DOUBLE_DIR/port" ]
}

fal_double_stop() {
	local p
	p=$(cat "$FAL_DOUBLE_DIR/pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

fal_url() { echo "http://127.0.0.1:$(cat "$FAL_DOUBLE_DIR/port")"; }

fal_setup() {
	BUILD_ABS=${BUILD_ABS:-$PWD/${BUILD:-build}}
	I2M="$BUILD_ABS/bin/i2m"
	FIX="$PWD/tests/fixtures"
	LOGS="$BATS_TEST_TMPDIR"
	export SPOOL_DIR="$BATS_TEST_TMPDIR/spool"
	export FAL_KEY="$FAL_TEST_KEY"
	FAL_QUEUE_URL=$(fal_url)
	export FAL_QUEUE_URL FAL_REST_URL="$FAL_QUEUE_URL"
	export FAL_POLL_MS=50 FAL_TIMEOUT_MS=2000 FAL_DEADLINE_S=60
	export FAL_MAX_INFLIGHT=8 WORKERS=4 RETENTION_HOURS=0 DISK_FLOOR_MB=0
	unset I2M_CONFIG DEFAULT_MODEL
	mkdir -p "$SPOOL_DIR"
	fal_ctl reset >/dev/null
}

fal_teardown() {
	local f
	for f in "$BATS_TEST_TMPDIR"/pid.*; do
		[ -f "$f" ] || continue
		fal_stop "${f##*/pid.}"
	done
	! cat "$LOGS"/*.status 2>/dev/null | grep -q exit
	# FAL ignores unknown input fields and bills the run (§8.7): never one.
	fal_state | jq -e '.ignored_fields == []' >/dev/null
	# ASan/UBSan builds: a report anywhere fails the test.
	! cat "$LOGS"/*.log 2>/dev/null | grep -E -q 'Sanitizer|runtime error|== ?ERROR'
}

fal_daemon() { daemon_start "$1"; }

fal_stop() { daemon_stop "$@"; }

fal_ctl() {
	curl -sf -X POST -H 'Content-Type: application/json' \
		--data "${2:-{\}}" "$(fal_url)/_control/$1"
}

fal_state() { curl -sf "$(fal_url)/_control/state"; }

fal_fault() {
	local extra=${4:-}
	fal_ctl faults "{\"rules\":[{\"op\":\"$1\",\"kind\":\"$2\",\"count\":${3:-1}${extra:+,$extra}}]}" >/dev/null
}

fal_file_json() { cat "$SPOOL_DIR/batches/$1/state/$2.json"; }

# fal_paid_once N: N models billed, every one of them downloaded, and no
# image submitted twice (the rule of never paying twice).
fal_paid_once() {
	local st
	st=$(fal_state)
	echo "$st" | jq -c '{submits, billed, billed_not_downloaded, by_sha}'
	[ "$(echo "$st" | jq .billed)" -eq "$1" ]
	[ "$(echo "$st" | jq '.billed_not_downloaded | length')" -eq 0 ]
	[ "$(echo "$st" | jq '[.by_sha[]] | max // 0')" -le 1 ]
}
