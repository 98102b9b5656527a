#!/usr/bin/env bash
# bench/metrics.sh [BUILD] [BATCHES]: monitoring with a full spool (issue
# 10, finding 8).  Fills a temporary spool with BATCHES (10000) one-file
# batches, starts lighttpd + the handlers (tests/bats/lib/server.bash,
# no daemon) and prints:
#   1. one metrics scrape, cold (a walk of every batch) and warm (cached)
#   2. readiness time (heartbeats and the disk only)
#   3. status poll latency (median, max of 200 polls) alone, while 32
#      clients fetch a static page as fast as they can (the control: the
#      same load on the cores), and while 32 clients scrape metrics
# BENCHMARKS.md ("Monitoring") records the figures.
set -u
# shellcheck source=lib.bash
. "$(dirname "$0")/lib.bash"
N=${2:-10000}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; i2m_stop >/dev/null 2>&1' EXIT

i2m_start --no-daemon || exit 1
W=$I2M_TMP/bench
mkdir -p "$W"
id=$(i2m_as_user "$I2M_BIN/i2m" submit --model local tests/fixtures/chair.png) || exit 1
# Copies of one batch under new ids: what the handlers read is the same.
(
	cd "$SPOOL_DIR/batches" || exit 1
	for i in $(seq 2 "$N"); do
		printf '%032x\n' "$i"
	done | xargs -P 2 -I{} cp -a "$id" {}
)
echo "# $(ls "$SPOOL_DIR/batches" | wc -l) batches, $(nproc) cores, server $I2M_URL"
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

t() { curl -s -o /dev/null -w '%{time_total}\n' "$@"; }
echo "metrics_cold_seconds $(t "$I2M_URL/api/v1/health/metrics")"
echo "metrics_warm_seconds $(t "$I2M_URL/api/v1/health/metrics")"
echo "readiness_seconds $(t "$I2M_URL/api/v1/health/readiness")"

polls() {
	for i in $(seq 1 200); do
		t "$I2M_URL/api/v1/status/tasks/$id/status"
	done | sort -n | awk '{a[NR] = $1} END {printf "median %.4f max %.4f", a[int(NR / 2)], a[NR]}'
}
echo "status_poll_seconds_alone $(polls)"
# hammer PATH: 32 clients requesting PATH as fast as they can (in pids).
hammer() {
	local c
	pids=()
	for c in $(seq 1 32); do
		(while :; do curl -s -o /dev/null "$I2M_URL$1"; done) &
		pids+=($!)
	done
	sleep 1
}
# The control: 32 clients on a static file load the 2 cores as much, so
# what the scrapers add beyond it is what metrics cost.
hammer /index.html
echo "status_poll_seconds_with_32_static_clients $(polls)"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null || true
hammer /api/v1/health/metrics
scr=$( (time -p bash -c "for i in \$(seq 1 50); do curl -s -o /dev/null $I2M_URL/api/v1/health/metrics; done") 2>&1 | awk '/real/ {print $2 / 50}')
echo "status_poll_seconds_with_32_scrapers $(polls)"
echo "metrics_seconds_with_32_scrapers $scr"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null || true
