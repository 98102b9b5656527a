#!/usr/bin/env bats
# fal_faults.bats: every fault class of the FAL backend ends right, against
# the FAL test double (tests/fal_double): transient ones complete after
# retries, final ones fail with their clear reason, and nothing hangs
# (every wait has a timeout).

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; }
teardown() { fal_teardown; }

# run_one MODEL [i2m submit args]: submit chair.png, wait; sets $id.
run_one() {
	local model=$1
	shift
	id=$("$I2M" submit --model "$model" "$@" "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
}

completes() {
	[ "$(fal_file_json "$id" 0 | jq -r .status)" = completed ]
	[ -s "$SPOOL_DIR/batches/$id/out/0.glb" ]
}

fails_with() {
	local st err
	st=$(fal_file_json "$id" 0 | jq -r .status)
	err=$(fal_file_json "$id" 0 | jq -r .error)
	echo "status=$st error=$err"
	[ "$st" = failed ]
	[[ "$err" == *"$1"* ]]
}

submits() { fal_state | jq .submits; }

@test "fal: 429 twice on submit (Retry-After: 0) then completes, submitted once" {
	fal_daemon d1
	fal_fault submit 429 2 '"retry_after":0'
	run_one trellis
	completes
	[ "$(submits)" -eq 1 ]
	[ "$(fal_state | jq '.calls.submit')" -eq 3 ]
}

@test "fal: Retry-After is honoured" {
	fal_daemon d1
	fal_fault status 429 1 '"retry_after":1'
	start=$(date +%s%N)
	run_one triposr
	completes
	# One status answer said "come back in 1 s".
	[ $((($(date +%s%N) - start) / 1000000)) -ge 1000 ]
}

@test "fal: 408, 502 with an HTML body, 503 runner_disconnected, 504 are retried" {
	fal_daemon d1
	fal_fault initiate 408 1
	fal_fault submit 502html 2
	fal_fault status 503runner 2
	fal_fault result 504 1
	fal_fault cdn 502html 1
	run_one tripo3d-v2.5
	completes
	[ "$(submits)" -eq 1 ]
	[ "$(fal_state | jq '.rules | length')" -eq 0 ]
}

@test "fal: a 504 with X-Fal-Request-Timeout-Type: user is final" {
	fal_daemon d1
	fal_fault submit 504user 1
	run_one trellis
	fails_with "HTTP 504"
	fails_with "Request timed out"
	[ "$(fal_state | jq '.calls.submit')" -eq 1 ]
}

@test "fal: connection resets on upload, submit and status are retried" {
	fal_daemon d1
	fal_fault put reset 1
	fal_fault submit reset 1
	fal_fault status reset 2
	run_one hunyuan3d-v2
	completes
	[ "$(submits)" -eq 1 ]
}

@test "fal: an answer slower than FAL_TIMEOUT_MS times out and is retried" {
	export FAL_TIMEOUT_MS=300
	fal_daemon d1
	fal_fault status slow 1 '"delay_ms":5000'
	start=$(date +%s%N)
	run_one triposr
	completes
	# Waiting the answer out would take 5 s.
	[ $((($(date +%s%N) - start) / 1000000)) -lt 3000 ]
}

@test "fal: slow answers under the timeout just work" {
	fal_daemon d1
	fal_fault any slow 4 '"delay_ms":150'
	run_one triposr
	completes
}

@test "fal: truncated JSON on status and result is read again" {
	fal_daemon d1
	fal_fault status truncated 2
	fal_fault result truncated 1
	run_one trellis
	completes
	[ "$(submits)" -eq 1 ]
}

@test "fal: a CDN download error is retried" {
	fal_daemon d1
	fal_fault cdn 503runner 2
	run_one triposr
	completes
}

@test "fal: an expired result fails with a clear reason" {
	fal_daemon d1
	fal_fault result expired 1
	run_one trellis
	fails_with "expired before it could be fetched"
}

@test "fal: the model's own error (COMPLETED with error) fails with FAL's message" {
	fal_ctl config '{"model_errors":{"fal-ai/trellis":{"error":"Mesh extraction failed","error_type":"internal_error"}}}'
	fal_daemon d1
	run_one trellis
	fails_with "The model failed at FAL: Mesh extraction failed"
}

@test "fal: 422 on submit fails at once with FAL's message" {
	fal_daemon d1
	fal_fault submit 422 1 '"msg":"Image too large for this model"'
	run_one trellis
	fails_with "Image too large for this model"
	[ "$(fal_state | jq '.calls.submit')" -eq 1 ]
}

@test "fal: a 2xx submit answer that cannot be read is not sent again" {
	fal_daemon d1
	fal_fault submit truncated 1
	run_one trellis
	fails_with "not paid twice"
	[ "$(fal_state | jq '.calls.submit')" -eq 1 ]
}

@test "fal: transient errors that never stop end in a failure, not a hang" {
	export FAL_POLL_MS=10 # backoff 10 ms .. 320 ms
	fal_daemon d1
	fal_fault initiate 503runner 100
	run_one trellis
	[ "$status" -ne 124 ]
	fails_with "could not be reached for the upload after 8 tries"
}

@test "fal: a rejected key fails fast with a clear message; readiness sees it" {
	export FAL_KEY=wrong-key-never-valid
	fal_daemon d1
	start=$(date +%s%N)
	run_one trellis
	[ $((($(date +%s%N) - start) / 1000000)) -lt 5000 ]
	fails_with "FAL rejected the API key"
	[ "$(fal_state | jq .submits)" -eq 0 ]
	# The heartbeat (read by the readiness check) says so.
	hb() { jq -e '.fal_auth == "rejected"' "$SPOOL_DIR"/daemons/*.json >/dev/null; }
	wait_for 10 hb
}

@test "fal: past FAL_DEADLINE_S the request is cancelled at FAL and the file fails" {
	export FAL_DEADLINE_S=1
	# Still in FAL's queue at the deadline: cancel removes it (a running
	# one would finish and bill: fal_money.bats).
	fal_ctl config '{"queue_ms":30000,"run_ms":5000}'
	fal_daemon d1
	run_one triposr
	fails_with "did not finish this file within 1 s"
	fails_with "cancelled at FAL"
	[ "$(fal_state | jq .cancels)" -eq 1 ]
	[ "$(fal_state | jq '.requests[0].cancelled')" = true ]
}
