#!/usr/bin/env bats
# fal_recovery.bats: never paying twice, cancel, the in-flight cap and the
# key's secrecy, with the daemon and the CLI against the FAL test double.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; }
teardown() { fal_teardown; }

# Six different images (names differ per file, so the double counts
# submissions per file of the batch).
submit6() {
	"$I2M" submit --model "${1:-trellis}" "$FIX/chair.png" "$FIX/sneaker.jpg" \
		"$FIX/chair.png" "$FIX/sneaker.jpg" "$FIX/chair.png" "$FIX/sneaker.jpg"
}

nremote() { ls "$SPOOL_DIR/batches/$1/remote" 2>/dev/null | grep -c json || true; }

@test "fal: kill -9 while files are in FAL's queue, restart: each submitted once, all complete" {
	export WORKERS=6 FAL_MAX_INFLIGHT=6
	# FAL keeps them queued 1.5 s, so the kill lands while they wait.
	fal_ctl config '{"queue_ms":1500,"run_ms":200}'
	fal_daemon d1
	id=$(submit6)
	six() { [ "$(nremote "$id")" -eq 6 ]; }
	wait_for 10 six
	[ "$(fal_state | jq '[.requests[] | select(.state == "IN_QUEUE")] | length')" -eq 6 ]
	fal_stop d1 KILL
	fal_daemon d2
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$("$I2M" --json show "$id" | jq .successful)" -eq 6 ]
	# Exactly once per file, six in all.
	[ "$(fal_state | jq .submits)" -eq 6 ]
	[ "$(fal_state | jq '[.by_name[]] | max')" -eq 1 ]
	[ "$(fal_state | jq '.by_name | length')" -eq 6 ]
	grep -c "resuming FAL request" "$LOGS/d2.log" | grep -qx 6
}

@test "fal: kill -9 while FAL runs the model, restart: resumes, submitted once" {
	export WORKERS=6 FAL_MAX_INFLIGHT=6
	fal_ctl config '{"run_ms":1500}'
	fal_daemon d1
	id=$(submit6 hunyuan3d-v2)
	# Running at FAL and recorded here (between the two is the one
	# window in which a kill makes a second submit: docs/fal.md).
	running() { [ "$(fal_state | jq '[.requests[] | select(.state == "IN_PROGRESS")] | length')" -eq 6 ] &&
		[ "$(nremote "$id")" -eq 6 ]; }
	wait_for 10 running
	fal_stop d1 KILL
	fal_daemon d2
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$(fal_state | jq .submits)" -eq 6 ]
	[ "$(fal_state | jq '[.by_name[]] | max')" -eq 1 ]
}

@test "fal: SIGTERM hands in-flight files back; the next daemon resumes them" {
	export WORKERS=6 FAL_MAX_INFLIGHT=6
	fal_ctl config '{"run_ms":1500}'
	fal_daemon d1
	id=$(submit6)
	six() { [ "$(nremote "$id")" -eq 6 ]; }
	wait_for 10 six
	start=$(date +%s%N)
	fal_stop d1
	# Stopping does not wait for FAL.
	[ $((($(date +%s%N) - start) / 1000000)) -lt 1000 ]
	grep -q "handed back" "$LOGS/d1.log"
	[ "$(fal_state | jq .cancels)" -eq 0 ]
	fal_daemon d2
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$(fal_state | jq .submits)" -eq 6 ]
}

@test "fal: cancel reaches FAL for in-flight files; queued ones never reach FAL" {
	export WORKERS=6 FAL_MAX_INFLIGHT=2
	# Still in FAL's queue when cancelled: removed, nothing billed (a
	# running one would finish and bill: fal_money.bats).
	fal_ctl config '{"queue_ms":30000,"run_ms":5000}'
	fal_daemon d1
	id=$(submit6)
	two() { [ "$(fal_state | jq .submits)" -eq 2 ]; }
	wait_for 10 two
	# The others wait for a slot, visible as queued.
	waiting() { grep -l "Waiting for a FAL slot" "$SPOOL_DIR/batches/$id"/state/*.json | wc -l | grep -qx 4; }
	wait_for 5 waiting
	"$I2M" cancel "$id"
	run "$I2M" wait "$id" --timeout 10
	[ "$("$I2M" --json show "$id" | jq .cancelled)" -eq 6 ]
	[ "$(fal_state | jq .submits)" -eq 2 ]
	[ "$(fal_state | jq .cancels)" -eq 2 ]
	[ "$(fal_state | jq '[.requests[] | select(.cancelled)] | length')" -eq 2 ]
}

@test "fal: FAL_MAX_INFLIGHT caps requests at FAL; the rest complete later" {
	export WORKERS=6 FAL_MAX_INFLIGHT=2
	fal_ctl config '{"run_ms":300}'
	fal_daemon d1
	id=$(submit6 triposr)
	max=0
	for i in $(seq 1 60); do
		n=$(fal_state | jq '[.requests[] | select(.state != "COMPLETED")] | length')
		[ "$n" -gt "$max" ] && max=$n
		"$I2M" --json show "$id" | jq -e .finished >/dev/null && break
		sleep 0.05
	done
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	echo "max in flight: $max"
	[ "$max" -le 2 ]
}

@test "fal: the key is in no spool file, log line or answer" {
	fal_daemon d1
	id=$("$I2M" submit --model tripo3d-v2.5 "$FIX/chair.png" "$FIX/sneaker.jpg")
	"$I2M" wait "$id" --timeout 30
	# A failing file too: its error text comes from FAL.
	fal_fault submit 422 1 "\"msg\":\"bad key $FAL_TEST_KEY\""
	id2=$("$I2M" submit --model trellis "$FIX/chair.png")
	"$I2M" wait "$id2" --timeout 30 || true
	fal_file_json "$id2" 0 | jq -r .error | grep -q '\*\*\*'
	fal_stop d1
	! grep -r -F -q "$FAL_TEST_KEY" "$SPOOL_DIR"
	! grep -F -q "$FAL_TEST_KEY" "$LOGS"/*.log
	! "$I2M" --json show "$id" | grep -F -q "$FAL_TEST_KEY"
	! "$I2M" --json show "$id2" | grep -F -q "$FAL_TEST_KEY"
}
