#!/bin/sh
# bench/preview.sh [BUILD]: the light preview's figures (BENCHMARKS.md
# "Light preview"): a 30 MB textured GLB (bench/big_glb.py) -> its web copy
# by i2m-formats preview (time, size), then the time to first frame of
# both in headless Chromium (bench/preview_frame.js).  On a shared
# machine run it under the test lock: flock /tmp/i2m-tests.lock bench/preview.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
python3 bench/big_glb.py "$d/big.glb" 30
t0=$(date +%s.%N)
"$BUILD/bin/i2m-formats" preview "$d/big.glb" >"$d/big.web.glb"
t1=$(date +%s.%N)
echo "original: $(stat -c %s "$d/big.glb") bytes"
echo "preview:  $(stat -c %s "$d/big.web.glb") bytes, made in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
node tests/tools/validate.js "$d/big.web.glb"
node bench/preview_frame.js "$d" big.glb big.web.glb
