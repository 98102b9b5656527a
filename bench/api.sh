#!/usr/bin/env bash
# bench/api.sh [BUILD]: the HTTP API's benchmarks against a real lighttpd
# + handlers + daemon on a temporary spool (tests/bats/lib/server.bash).
# Prints one line per figure; BENCHMARKS.md ("HTTP API") records them.
#
#   1. upload handler peak RSS for a 25 x 10 MiB batch (VmHWM)
#   2. upload throughput vs cat + fsync of the same bytes to the same disk
#   3. upload answer -> daemon claim latency (median of N one-file batches)
#   4. status polling requests/s (wrk, keep-alive)
#   5. 500 SSE clients on one 25-file batch: task_completed delay after
#      the last file finished, and peak RSS of lighttpd + handlers
set -u
# shellcheck source=lib.bash
. "$(dirname "$0")/lib.bash"
CLIENTS=${CLIENTS:-500}
CLAIMS=${CLAIMS:-20}
trap 'i2m_stop >/dev/null 2>&1' EXIT

i2m_start --no-daemon || exit 1
W=$I2M_TMP/bench
mkdir -p "$W"
echo "# server $I2M_URL, spool $SPOOL_DIR, $(nproc) cores"

# 25 files of exactly 10 MiB, PNG signature + random bytes.
args=()
for i in $(seq 1 25); do
	{ head -c 8 tests/fixtures/chair.png; head -c $((10485760 - 8)) /dev/urandom; } >"$W/f$i.png"
	args+=(-F "files=@$W/f$i.png")
done
total=$((25 * 10485760))
sync

up_pid=$(pgrep -f "$I2M_BIN/i2m-upload.fcgi" | head -n 1)
t=$(curl -s -o "$W/up.json" -w '%{time_total}' "${args[@]}" "$I2M_URL/api/v1/upload/")
[ "$(jq -r .total_files "$W/up.json")" = 25 ] || { cat "$W/up.json"; exit 1; }
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$up_pid/status")
echo "upload_handler_peak_rss_kb $hwm  (target <= 16384)"

# Best of 3 for both, to damp page-cache noise.
best_up=999
for r in 1 2 3; do
	t=$(curl -s -o /dev/null -w '%{time_total}' "${args[@]}" "$I2M_URL/api/v1/upload/")
	best_up=$(echo "$t $best_up" | awk '{print ($1 < $2) ? $1 : $2}')
done
best_cat=999
for r in 1 2 3; do
	s=$(date +%s.%N)
	for i in $(seq 1 25); do
		cat "$W/f$i.png" >"$SPOOL_DIR/tmp/.cat$i" && sync "$SPOOL_DIR/tmp/.cat$i"
	done
	e=$(date +%s.%N)
	rm -f "$SPOOL_DIR"/tmp/.cat*
	best_cat=$(echo "$s $e $best_cat" | awk '{d = $2 - $1; print (d < $3) ? d : $3}')
done
echo "$best_up $best_cat $total" | awk '{printf "upload_seconds %.3f (%.0f MB/s)  cat_fsync_seconds %.3f (%.0f MB/s)  ratio %.2f  (target <= 2)\n", $1, $3/$1/1e6, $2, $3/$2/1e6, $1/$2}'

i2m_start_daemon || exit 1
# The 4 bogus batches above fail fast in the daemon; let it finish them.
sleep 2
python3 bench/api_claim.py "$I2M_URL" tests/fixtures/sneaker.jpg "$CLAIMS" "$SPOOL_DIR" |
	jq -r '"claim_latency_ms median \(.median_ms) p90 \(.p90_ms) min \(.min_ms) max \(.max_ms) over \(.n)  (target median <= 10)"'

id=$(i2m_upload_id tests/fixtures/chair.png tests/fixtures/sneaker.jpg tests/fixtures/chair.png tests/fixtures/sneaker.jpg)
i2m_wait_done "$id" 60
wrk -t2 -c32 -d10s "$I2M_URL/api/v1/status/tasks/$id/status" >"$W/wrk.txt"
awk '/Requests\/sec/ {printf "status_poll_rps %s  (wrk -t2 -c32 -d10s, keep-alive; target >= 2000)\n", $2}
	/Latency/ && !l {printf "status_poll_latency avg %s max %s\n", $2, $4; l = 1}' "$W/wrk.txt"
grep -q 'Non-2xx' "$W/wrk.txt" && grep 'Non-2xx' "$W/wrk.txt"

# 500 streams on one 25-file batch, RSS sampled meanwhile.
sargs=()
for i in $(seq 1 25); do sargs+=(tests/fixtures/sneaker.jpg); done
id=$(i2m_upload_id "${sargs[@]}")
(
	peak=0
	while :; do
		pids=$(cat "$I2M_TMP/lighttpd.pid"; pgrep -f "$I2M_BIN/i2m-.*\.fcgi")
		# shellcheck disable=SC2086
		s=$(ps -o rss= -p $(echo $pids | tr ' ' ,) 2>/dev/null | awk '{s += $1} END {print s + 0}')
		[ "$s" -gt "$peak" ] && peak=$s && echo "$peak" >"$W/rss.peak"
		sleep 0.2
	done
) &
sampler=$!
python3 bench/api_sse.py "$I2M_URL" "$id" "$CLIENTS" >"$W/sse.json"
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
last_fin=$(jq -s 'map(.finished) | max' "$SPOOL_DIR/batches/$id"/state/[0-9]*.json)
jq -r --argjson f "$last_fin" '"sse_clients connected \(.connected) got_task_completed \(.completed); delay after last file finished: first \(.first_ms - $f | floor) ms, last \(.last_ms - $f | floor) ms  (target last <= 1000)" + (if (.errors | length) > 0 then " errors: \(.errors)" else "" end)' "$W/sse.json"
echo "lighttpd_plus_handlers_peak_rss_kb $(cat "$W/rss.peak")  (during the SSE run; target <= 262144)"
