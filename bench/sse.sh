#!/usr/bin/env bash
# bench/sse.sh [BUILD]: the live progress figures (BENCHMARKS.md "Live
# progress"), against lighttpd + handlers on a temporary spool without a
# daemon (tests/bats/lib/server.bash); about a minute of load.
#
#   1. change -> event latency p50/p99 at 1, 100 and 2,000 streams on one
#      batch (bench/sse_bench.c writes the status as the daemon would),
#      under the default configuration
#   2. CPU of lighttpd + the handlers while 2,000 streams idle for 10 s,
#      and their RSS
#   3. the 2,001st stream's answer (status, time) under the defaults
#   4. status polling req/s next to lighttpd serving the same bytes as a
#      static file (wrk, one run each, side by side), and the 304 rate
#   5. with SSE8000=1: the same at 8,000 streams with SSE_MAX_STREAMS=8000
set -u
# shellcheck source=lib.bash
. "$(dirname "$0")/lib.bash"
trap 'i2m_stop >/dev/null 2>&1' EXIT

# pids: lighttpd and every handler of this run, comma-separated.
pids() {
	{ cat "$I2M_TMP/pid.lighttpd" 2>/dev/null; pgrep -f "$I2M_BIN/i2m-.*\.fcgi"; } |
		paste -sd, -
}

# hold_batch: a one-file batch that stays queued; prints its id.
hold_batch() {
	local id
	id=$(i2m_upload_id tests/fixtures/sneaker.jpg) || return 1
	rm -f "$SPOOL_DIR/q/new/$id".*
	echo "$id"
}

# run N CHANGES HOLD_S: one sse_bench run on a fresh batch; JSON to stdout.
run() {
	local id
	id=$(hold_batch) || return 1
	i2m_as_user env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/sse_bench" "$PORT" "$id" 1 "$1" "$2" "$3" "$(pids)"
}

start() {
	i2m_start --no-daemon || exit 1
	cp "$BUILD_ABS/bench/sse_bench" "$I2M_BIN/"
	echo "# server $I2M_URL, SSE_MAX_STREAMS=$("$I2M_BIN/i2m" config SSE_MAX_STREAMS), $(nproc) cores"
}

# A fresh server for every size: lighttpd notices a departed client only
# when it writes to it, so the last run's streams would hold slots until
# their heartbeat (or until a refused stream makes i2m-sse sweep).
start
echo "streams_1 $(run 1 20 0)"
i2m_stop
start
echo "streams_100 $(run 100 20 0)"
i2m_stop
start
# 2,000 idle for 10 s, then the 2,001st stream, then the changes.
id=$(hold_batch)
out=$I2M_TMP/b2000
: >"$out"
i2m_as_user env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/sse_bench" "$PORT" "$id" 1 2000 10 10 "$(pids)" >"$out" &
bench=$!
for i in $(seq 1 600); do grep -q open_all_ms "$out" && break; sleep 0.1; done
t=$(curl -s -D "$I2M_TMP/h" -o "$I2M_TMP/b" -w '%{http_code} %{time_total}' --max-time 10 \
	"$I2M_URL/api/v1/status/tasks/$id/stream")
echo "stream_2001 status ${t%% *} in ${t#* } s, Retry-After $(awk 'tolower($1) == "retry-after:" {print $2}' "$I2M_TMP/h" | tr -d '\r'), $(jq -c '{error_code}' "$I2M_TMP/b")"
wait "$bench"
echo "streams_2000 $(cat "$out")"

# Status polling next to the same bytes from lighttpd's static files.
id=$(hold_batch)
curl -s "$I2M_URL/api/v1/status/tasks/$id/status" >"$I2M_WWW/bench-status.json"
etag=$(curl -s -D - -o /dev/null "$I2M_URL/api/v1/status/tasks/$id/status" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
for what in static status 304; do
	case $what in
	static) url=$I2M_URL/bench-status.json h=() ;;
	status) url=$I2M_URL/api/v1/status/tasks/$id/status h=() ;;
	304) url=$I2M_URL/api/v1/status/tasks/$id/status h=(-H "If-None-Match: $etag") ;;
	esac
	rps=$(wrk -t1 -c32 -d5s "${h[@]}" "$url" | awk '/Requests\/sec/ {print $2}')
	echo "poll_$what $rps req/s ($(stat -c %s "$I2M_WWW/bench-status.json") bytes, wrk -t1 -c32 -d5s)"
done
i2m_stop

if [ "${SSE8000:-0}" = 1 ]; then
	export SSE_MAX_STREAMS=8000
	start
	echo "streams_8000 $(run 8000 10 10)"
	i2m_stop
fi
