#!/usr/bin/env bats
# api_endpoints.bats: status, downloads (list, file, zip), models, health,
# readiness, metrics, 404s for unknown ids and traversal, 405s; every
# served GLB passes the Khronos glTF validator.

load lib/server

setup_file() {
	i2m_start
	FIX="$PWD/tests/fixtures"
	# Two uploads named "chair" in one batch: names must stay distinct.
	ID=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg" "$FIX/chair.png")
	export FIX ID
	i2m_wait_done "$ID" 90
}

@test "health: /api/v1/health/, /api/v1/health and /health" {
	for p in /api/v1/health/ /api/v1/health /health; do
		code=$(req "$I2M_URL$p")
		[ "$code" = 200 ]
		json_eq .status healthy
		json_eq .service image2model
		jq -r .timestamp "$BODY" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
		jq -e .version "$BODY" >/dev/null
	done
}

@test "readiness: 200 with a live daemon" {
	code=$(req "$I2M_URL/api/v1/health/readiness")
	[ "$code" = 200 ]
	json_eq .checks.daemon.ok true
	json_eq .checks.spool.ok true
	json_eq .checks.disk.ok true
}

@test "metrics: Prometheus text with the documented series" {
	code=$(req "$I2M_URL/api/v1/health/metrics")
	[ "$code" = 200 ]
	grep -qi '^Content-Type: text/plain' "$HDR"
	for m in 'i2m_files{state="completed"}' i2m_queue_depth i2m_uploads \
		i2m_retries i2m_jobs_failed i2m_processing_seconds_count i2m_spool_bytes; do
		grep -qF "$m" "$BODY"
	done
	[ "$(grep -F 'i2m_files{state="completed"}' "$BODY" | awk '{print $2}')" -ge 3 ]
}

@test "models/available: the offline model with its parameters, no FAL without a key" {
	code=$(req "$I2M_URL/api/v1/models/available")
	[ "$code" = 200 ]
	json_eq '.models | length' 1
	json_eq '.models[0].id' local
	json_eq '.models[0].provider' local
	json_eq '.models[0].default' true
	json_eq '.models[0].output_formats[0]' glb
	json_eq '.models[0].parameters | map(.name) | join(",")' mode,resolution,thickness,back
	code=$(req -d "" "$I2M_URL/api/v1/models/available")
	[ "$code" = 405 ]
}

@test "status: polling object, both paths" {
	for p in status/tasks/$ID/status status/tasks/$ID; do
		code=$(req "$I2M_URL/api/v1/$p")
		[ "$code" = 200 ]
		json_eq .task_id "$ID"
		json_eq .job_id "$ID"
		json_eq .batch_id "$ID"
		json_eq .status completed
		json_eq .progress 100
		json_eq .current 3
		json_eq .total 3
		json_eq .model local
		jq -e .created "$BODY" >/dev/null
		json_eq '.files | length' 3
		json_eq '.result.status' completed
		json_eq '.result.successful_files' 3
		[ "$(jq -r '[.files[].model_url] | join(" ")' "$BODY")" = \
			"$I2M_URL/api/v1/download/$ID/chair.glb $I2M_URL/api/v1/download/$ID/sneaker.glb $I2M_URL/api/v1/download/$ID/chair-2.glb" ]
	done
}

@test "download/all: finished models in upload order, urls match" {
	code=$(req "$I2M_URL/api/v1/download/$ID/all")
	[ "$code" = 200 ]
	json_eq .job_id "$ID"
	json_eq .total_files 3
	json_eq '[.files[].filename] | join(",")' chair.glb,sneaker.glb,chair-2.glb
	json_eq '.files[0].mime_type' model/gltf-binary
	json_eq '.files[1].size' "$(jq -r '.files[1].file_size' "$BODY")"
	json_eq '[.files[].model_url] == .download_urls' true
	json_eq '.failed | length' 0
	jq -e '.files[0].created_time > 1000000000' "$BODY" >/dev/null
}

@test "download: every model is sent by lighttpd, named after the upload, and is valid glTF" {
	for n in chair sneaker chair-2; do
		code=$(reqo "$BATS_TEST_TMPDIR/$n.glb" "$I2M_URL/api/v1/download/$ID/$n.glb")
		[ "$code" = 200 ]
		grep -qi '^Content-Type: model/gltf-binary' "$HDR"
		grep -qi "^Content-Disposition: attachment; filename=\"$n.glb\"" "$HDR"
		grep -qi '^Content-Length: ' "$HDR"
		i=$(jq -r --arg n "$n.glb" '.files | map(.download_name) | index($n)' <(curl -s "$I2M_URL/api/v1/status/tasks/$ID"))
		cmp "$BATS_TEST_TMPDIR/$n.glb" "$SPOOL_DIR/batches/$ID/out/$i.glb"
	done
	node tests/tools/validate.js "$BATS_TEST_TMPDIR"/*.glb
}

@test "download: all.zip opens and holds every model" {
	code=$(reqo "$BATS_TEST_TMPDIR/all.zip" "$I2M_URL/api/v1/download/$ID/all.zip")
	[ "$code" = 200 ]
	grep -qi '^Content-Type: application/zip' "$HDR"
	unzip -tq "$BATS_TEST_TMPDIR/all.zip"
	[ "$(unzip -Z1 "$BATS_TEST_TMPDIR/all.zip" | sort | tr '\n' ' ')" = "chair-2.glb chair.glb sneaker.glb " ]
	mkdir "$BATS_TEST_TMPDIR/x"
	(cd "$BATS_TEST_TMPDIR/x" && unzip -q ../all.zip)
	cmp "$BATS_TEST_TMPDIR/x/sneaker.glb" "$SPOOL_DIR/batches/$ID/out/1.glb"
	node tests/tools/validate.js "$BATS_TEST_TMPDIR"/x/*.glb
}

@test "download: names not listed, and traversal, are 404" {
	for p in "$ID/nope.glb" "$ID/0.glb" "$ID/..%2Fbatch.json" "$ID/..%2F..%2F$ID%2Fbatch.json" \
		"$ID/%2e%2e%2fbatch.json" "$ID/chair.png" "$ID/.lock" "..%2F$ID/chair.glb" "%2e%2e/all"; do
		code=$(req "$I2M_URL/api/v1/download/$p")
		[ "$code" = 404 ] || { echo "$p -> $code"; return 1; }
		json_eq .status_code 404
	done
	code=$(req --path-as-is "$I2M_URL/api/v1/download/$ID/../$ID/chair.glb")
	[ "$code" = 404 ] || [ "$(cat "$BODY" | head -c 4)" = glTF ]
	code=$(req --path-as-is "$I2M_URL/api/v1/download/$ID/../../../../etc/passwd")
	[ "$code" = 404 ]
	! grep -q root: "$BODY"
}

@test "unknown and malformed ids are 404 everywhere" {
	u=0123456789abcdef0123456789abcdef
	for p in "status/tasks/$u/status" "status/tasks/$u" "status/tasks/$u/stream" \
		"download/$u/all" "download/$u/all.zip" "download/$u/x.glb" \
		"status/tasks/..%2F..%2Fetc/status" "status/tasks/%2e%2e/status" \
		"status/tasks/ABCDEF/status" "status/tasks/$u%2F..%2F/status" "nope"; do
		code=$(req "$I2M_URL/api/v1/$p")
		[ "$code" = 404 ] || { echo "$p -> $code"; return 1; }
		json_eq .error true
	done
	for p in cancel retry; do
		code=$(req -d "" "$I2M_URL/api/v1/status/tasks/$u/$p")
		[ "$code" = 404 ]
		json_eq .error_code TASK_NOT_FOUND
	done
}

@test "wrong methods are 405 with Allow" {
	code=$(req -d "" "$I2M_URL/api/v1/status/tasks/$ID/status")
	[ "$code" = 405 ]
	grep -qi '^Allow: GET' "$HDR"
	code=$(req "$I2M_URL/api/v1/status/tasks/$ID/cancel")
	[ "$code" = 405 ]
	code=$(req -X DELETE "$I2M_URL/api/v1/download/$ID/all")
	[ "$code" = 405 ]
}

@test "retry with nothing to retry is 409; cancel of a finished batch keeps it" {
	code=$(req -d "" "$I2M_URL/api/v1/status/tasks/$ID/retry")
	[ "$code" = 409 ]
	json_eq .error_code NOTHING_TO_RETRY
	code=$(req -d "" "$I2M_URL/api/v1/status/tasks/$ID/cancel")
	[ "$code" = 200 ]
	json_eq .status completed
	json_eq '[.files[].status] | unique | join(",")' completed
}

@test "static: www/ is served, dot-files are not" {
	mkdir -p "$I2M_TMP/www"
	echo '<p>hi</p>' >"$I2M_TMP/www/processing.html"
	echo secret >"$I2M_TMP/www/.hidden"
	code=$(req "$I2M_URL/processing?taskId=$ID")
	[ "$code" = 200 ]
	grep -q hi "$BODY"
	code=$(req "$I2M_URL/.hidden")
	[ "$code" = 403 ] || [ "$code" = 404 ]
}

@test "models/available: the upload limits and retention, for the pages" {
	code=$(req "$I2M_URL/api/v1/models/available")
	[ "$code" = 200 ]
	[ "$(jq -c .limits "$BODY")" = '{"max_files":25,"max_file_bytes":10485760,"retention_hours":72}' ]
}

@test "models/available: what each model is good at, its typical time and its settings for people" {
	code=$(req "$I2M_URL/api/v1/models/available")
	[ "$code" = 200 ]
	json_eq '.models[0].good_at | length > 10' true
	json_eq '.models[0].typical_s' 1
	json_eq '.models[0].settings | map(.param) | join(",")' mode,resolution
	json_eq '.models[0].settings[0].label' Shape
	json_eq '.models[0].settings[0].choice_labels | length' 6
}

@test "batches: without API keys the batch list does not exist (404)" {
	code=$(req "$I2M_URL/api/v1/batches")
	[ "$code" = 404 ]
	json_eq .error_code NOT_FOUND
	json_eq .message "The batch list needs API keys (API_KEYS); without them a batch is reached by its id only."
}
