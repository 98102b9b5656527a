#!/usr/bin/env bats
# fal_money.bats: never paying for a model and throwing it away, against a
# double that behaves like FAL (protocol §8): a running request ignores
# cancel and bills, results outlive a crash, the CDN can fail, an account
# can be locked.  In every test the double's count of models it billed
# and nobody downloaded is 0, and no image is submitted twice.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; }
teardown() { fal_teardown; }

rec() { echo "$SPOOL_DIR/batches/$1/remote/0.json"; }
req_state() { fal_state | jq -r ".requests[0].state"; }

@test "fal: a crash outlasting the deadline while FAL completes: the model is fetched" {
	export FAL_DEADLINE_S=3
	fal_ctl config '{"run_ms":2500}'
	fal_daemon d1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	running() { [ -s "$(rec "$id")" ] && [ "$(req_state)" = IN_PROGRESS ]; }
	wait_for 10 running
	fal_stop d1 KILL
	# FAL finishes while no daemon runs, and the deadline passes.
	past() { [ "$(req_state)" = COMPLETED ] &&
		[ "$(date +%s%3N)" -gt "$(jq .deadline "$(rec "$id")")" ]; }
	wait_for 15 past
	fal_daemon d2
	run "$I2M" wait "$id" --timeout 30
	[ "$(fal_file_json "$id" 0 | jq -r .status)" = completed ]
	[ "$(fal_state | jq .cancels)" -eq 0 ]
	fal_paid_once 1
}

@test "fal: the deadline passing while FAL runs the model: it is kept, the file says FAL charged" {
	export FAL_DEADLINE_S=1
	fal_ctl config '{"run_ms":2500}'
	fal_daemon d1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	f=$(fal_file_json "$id" 0)
	echo "$f"
	[ "$(echo "$f" | jq -r .status)" = completed ]
	[[ "$(echo "$f" | jq -r .message)" == *"FAL_DEADLINE_S passed after FAL had started the model"*"charged"* ]]
	[ "$(fal_state | jq .cancels)" -eq 1 ]
	fal_state | jq -e '.requests[0].cancel_requested'
	fal_paid_once 1
}

@test "fal: a user cancel while FAL runs the model: it is kept, the file says FAL charged" {
	fal_ctl config '{"run_ms":2500}'
	fal_daemon d1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	running() { [ -s "$(rec "$id")" ] && [ "$(req_state)" = IN_PROGRESS ]; }
	wait_for 10 running
	"$I2M" cancel "$id"
	run "$I2M" wait "$id" --timeout 30
	f=$(fal_file_json "$id" 0)
	echo "$f"
	[ "$(echo "$f" | jq -r .status)" = completed ]
	[[ "$(echo "$f" | jq -r .message)" == *"The cancel came after FAL had started the model"* ]]
	[ -s "$SPOOL_DIR/batches/$id/out/0.glb" ]
	[ "$(fal_state | jq .cancels)" -eq 1 ]
	fal_paid_once 1
}

@test "fal: the CDN failing a download, then retry: downloaded again from the stored URL, not paid again" {
	fal_daemon d1
	# Every try of the download fails (8 tries).
	fal_fault cdn 503runner 8
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	f=$(fal_file_json "$id" 0)
	echo "$f"
	[ "$(echo "$f" | jq -r .status)" = failed ]
	[[ "$(echo "$f" | jq -r .error)" == *"downloaded again, not paid again"* ]]
	[ "$(fal_state | jq '.billed_not_downloaded | length')" -eq 1 ]
	"$I2M" retry "$id"
	run "$I2M" wait "$id" --timeout 30
	[ "$(fal_file_json "$id" 0 | jq -r .status)" = completed ]
	[ -s "$SPOOL_DIR/batches/$id/out/0.glb" ]
	fal_paid_once 1
}

@test "fal: a 404 from the CDN: the file says so, and only then a retry submits anew" {
	fal_daemon d1
	fal_fault cdn 404 1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[[ "$(fal_file_json "$id" 0 | jq -r .error)" == *"no longer has the model"*"paid again"* ]]
	"$I2M" retry "$id"
	run "$I2M" wait "$id" --timeout 30
	[ "$(fal_file_json "$id" 0 | jq -r .status)" = completed ]
	[ "$(fal_state | jq .submits)" -eq 2 ]
}

@test "fal: a locked account: files wait queued with FAL's reason, then go on by themselves after a top-up" {
	export FAL_PROBE_S=1
	why="User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
	fal_ctl config "{\"locked\":\"$why\"}"
	fal_daemon d1
	id=$("$I2M" submit --model trellis "$FIX/chair.png" "$FIX/sneaker.jpg")
	waiting() {
		for n in 0 1; do
			fal_file_json "$id" $n | jq -e '.status == "queued" and (.message | contains("Exhausted balance"))' >/dev/null || return 1
		done
	}
	wait_for 10 waiting
	# The heartbeat (read by the readiness check) names the reason.
	hb() { jq -e '.fal_auth == "locked" and (.fal_message | contains("Exhausted balance"))' \
		"$SPOOL_DIR"/daemons/*.json >/dev/null; }
	wait_for 10 hb
	[ "$(fal_state | jq .submits)" -eq 0 ]
	# Probes go on while it is locked (one every FAL_PROBE_S).
	probed() { [ "$(fal_state | jq '.calls.initiate // 0')" -ge 3 ]; }
	wait_for 10 probed
	fal_ctl config '{"locked":null}' >/dev/null
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$("$I2M" --json show "$id" | jq .successful)" -eq 2 ]
	ok() { jq -e '.fal_auth == "ok"' "$SPOOL_DIR"/daemons/*.json >/dev/null; }
	wait_for 10 ok
	[ "$(fal_state | jq .submits)" -eq 2 ]
	fal_paid_once 2
}

@test "fal: uploads and submits carry the lifecycle headers; upload names carry no batch id" {
	fal_daemon d1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	s=$(fal_state)
	echo "$s" | jq -c '{lifecycle, upload_names}'
	[ "$(echo "$s" | jq -r '.lifecycle.initiate[0]')" = '{"expiration_duration_seconds":86400}' ]
	[ "$(echo "$s" | jq -r '.lifecycle.submit[0]')" = '{"expiration_duration_seconds":604800}' ]
	! echo "$s" | jq -r '.upload_names[]' | grep -q "$id"
	fal_paid_once 1
	fal_stop d1
	fal_ctl reset >/dev/null
	export FAL_UPLOAD_TTL_S=3600 FAL_OUTPUT_TTL_S=7200
	fal_daemon d2
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$(fal_state | jq -r '.lifecycle.initiate[0]')" = '{"expiration_duration_seconds":3600}' ]
	[ "$(fal_state | jq -r '.lifecycle.submit[0]')" = '{"expiration_duration_seconds":7200}' ]
	fal_paid_once 1
}

@test "fal: a 30 MB model from a CDN on another host is downloaded whole" {
	fal_ctl config '{"mesh_mb":30}'
	fal_daemon d1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$SPOOL_DIR/batches/$id/out/0.glb")" -gt 30000000 ]
	# The CDN is not the API's host:port, and never got the key.
	[ "$(fal_state | jq -r .cdn_base)" != "$(fal_url)" ]
	[ "$(fal_state | jq .cdn_auth)" -eq 0 ]
	fal_paid_once 1
}

@test "fal: a 403 from the presigned upload URL says nothing about the key or the account" {
	fal_daemon d1
	fal_fault put 403 1
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[[ "$(fal_file_json "$id" 0 | jq -r .error)" == *"FAL refused the upload (HTTP 403)"* ]]
	hb() { jq -e '.fal_auth == "ok"' "$SPOOL_DIR"/daemons/*.json >/dev/null; }
	wait_for 10 hb
	[ "$(fal_state | jq .submits)" -eq 0 ]
}
