#!/usr/bin/env bats
# fal_batch.bats: a 25-file batch whose every model run takes 2 s at the
# FAL double finishes in about 2 s (the files run side by side), not 50.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; }
teardown() { fal_teardown; }

@test "fal: 25 files at 2 s each finish in about 2 s, each submitted once" {
	export WORKERS=25 FAL_MAX_INFLIGHT=25 FAL_POLL_MS=100
	fal_ctl config '{"run_ms":2000}'
	fal_daemon d1
	files=()
	for i in $(seq 1 25); do files+=("$FIX/chair.png"); done
	start=$(date +%s%N)
	id=$("$I2M" submit --model triposr "${files[@]}")
	run "$I2M" wait "$id" --timeout 60
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "25 files in $ms ms" >&3
	[ "$status" -eq 0 ]
	[ "$("$I2M" --json show "$id" | jq .successful)" -eq 25 ]
	[ "$(fal_state | jq .submits)" -eq 25 ]
	[ "$(fal_state | jq '[.by_name[]] | max')" -eq 1 ]
	# 2 s of model time plus our overhead; serial would be 50 s.  The bound
	# is half of serial, so it tells parallel from serial under any load
	# (CI's ASan run took 5.7-6.0 s with every file's thumbnail made in an
	# ASan i2m-convert first; the tight figure is not this test's job).
	[ "$ms" -lt 25000 ]
}
