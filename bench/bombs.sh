#!/usr/bin/env bash
# bench/bombs.sh BUILD: 25 forty-megapixel decompression bombs in one
# batch through the real daemon with the default WORKERS (issue 10,
# finding 7; BENCHMARKS.md "Decompression bombs").
#
# The batch mixes 13 16-bit RGBA PNGs (6400x6250, 324 KB each, 320 MB of
# samples) and 12 lossless WebPs (38 bytes each, 160 MB of pixels).  Every
# 20 ms the script adds up the memory of the daemon and all its
# children (the per-file conversion processes), two ways:
#   PSS  /proc/PID/smaps_rollup "Pss": pages shared between the daemon and
#        a forked child (copy-on-write) counted once, split between them;
#        the true footprint of the tree;
#   RSS  /proc/PID/status "VmRSS" summed: an upper bound (shared pages
#        counted in every process).
# It prints both peaks, the time the batch took and how it ended.
# Run it as: flock /tmp/i2m-tests.lock bench/bombs.sh build
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=$(cd "${1:-build}" && pwd) || exit 2
tmp=$(mktemp -d)
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT
export SPOOL_DIR="$tmp/spool" RETENTION_HOURS=0 DISK_FLOOR_MB=0
unset WORKERS I2M_CONFIG FAL_KEY DEFAULT_MODEL LOCAL_MEMORY_MB LOCAL_CPU_S
python3 tests/tools/bomb_png.py "$tmp/bomb.png"
files=()
for i in $(seq 1 13); do files+=("$tmp/bomb.png"); done
for i in $(seq 1 12); do files+=(tests/fixtures/bomb-40mp.webp); done
id=$("$BUILD/bin/i2m" submit --model local "${files[@]}") || exit 1
workers=$("$BUILD/bin/i2m" config WORKERS)

tree_pids() {	# the daemon and its children
	echo "$dpid"
	pgrep -P "$dpid"
}
sum_kb() {	# sum_kb FIELD FILE: one field of each process, in kB
	local p f=$1 s=0 v
	for p in $(tree_pids); do
		v=$(awk -v k="$f:" '$1 == k { print $2; exit }' "/proc/$p/$2" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

start=$(date +%s%N)
"$BUILD/bin/i2m-daemon" 2>"$tmp/daemon.log" &
dpid=$!
peak_pss=0
peak_rss=0
peak_kids=0
while :; do
	pss=$(sum_kb Pss smaps_rollup)
	rss=$(sum_kb VmRSS status)
	kids=$(pgrep -c -P "$dpid")
	[ "$pss" -gt "$peak_pss" ] && peak_pss=$pss
	[ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
	[ "$kids" -gt "$peak_kids" ] && peak_kids=$kids
	left=$(jq -r .status "$SPOOL_DIR/batches/$id/state/"*.json | grep -cvE '^(completed|failed|cancelled)$')
	[ "$left" -eq 0 ] && break
	kill -0 "$dpid" 2>/dev/null || { echo "the daemon died"; exit 1; }
	sleep 0.02
done
ms=$((($(date +%s%N) - start) / 1000000))
done_n=$(jq -r .status "$SPOOL_DIR/batches/$id/state/"*.json | grep -c completed)
echo "25 bombs (13 PNG 16-bit 6400x6250 324 KB, 12 WebP lossless 6400x6250 38 B), WORKERS=$workers"
echo "completed $done_n/25 in $ms ms; at most $peak_kids conversion children at once"
echo "peak PSS, daemon + children: $((peak_pss / 1024)) MB"
echo "peak RSS sum, daemon + children (shared pages counted twice): $((peak_rss / 1024)) MB"
jq -r 'select(.status != "completed") | .error' "$SPOOL_DIR/batches/$id/state/"*.json | sort | uniq -c
