#!/usr/bin/env bats
# fal_models_2026.bats: each 2026 model row through the daemon against the
# FAL double with that model's output shape (model_glb, model_mesh with
# model_urls, Rodin's image_urls array): the file completes with a valid
# GLB, only the row's fields are sent, the always-sent ones are there,
# each image is submitted once, and the completed request is counted once
# in the spend file at the row's price (null when unknown), which
# `i2m spend` shows.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; fal_daemon d1; }
teardown() { fal_teardown; }

# input: the JSON input the double received for the only request.
input() { fal_state | jq -c '.requests[0].input'; }

# run_model ID FAL_ID [--param K=V]...: one photo through the daemon.
run_model() {
	local id
	id=$("$I2M" submit --model "$1" "${@:3}" "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 60
	echo "$(fal_file_json "$id" 0)"
	[ "$status" -eq 0 ]
	[ "$(fal_file_json "$id" 0 | jq -r .status)" = completed ]
	node tests/tools/validate.js "$SPOOL_DIR/batches/$id/out/0.glb"
	fal_state | jq -e --arg m "$2" '.submits == 1 and .requests[0].model == $m'
	fal_state | jq -e '[.by_sha[]] == [1]'
	BATCH=$id
}

# spent USD: today's spend file has one entry for the batch's file, at USD.
spent() {
	local f
	f="$SPOOL_DIR/spend/$(date -u +%F).json"
	cat "$f"
	jq -e --arg file "$BATCH.0" --argjson usd "$1" \
		'.requests == 1 and .entries[0].file == $file and .entries[0].usd == $usd' "$f"
}

@test "fal 2026: tripo3d-h3.1 sends pbr explicitly; no texture sends pbr=false" {
	run_model tripo3d-h3.1 tripo3d/h3.1/image-to-3d --param texture=false \
		--param geometry_quality=detailed --param model_seed=5
	[ "$(input | jq -S -c 'del(.image_url)')" = '{"geometry_quality":"detailed","model_seed":5,"pbr":false,"texture":false}' ]
	spent null
}

@test "fal 2026: tripo3d-p1 low poly, model_mesh with model_urls" {
	run_model tripo3d-p1 tripo3d/p1/image-to-3d --param face_limit=2000
	[ "$(input | jq -S -c 'del(.image_url)')" = '{"face_limit":2000}' ]
	spent null
}

@test "fal 2026: trellis-2 answers model_glb" {
	run_model trellis-2 fal-ai/trellis-2 --param resolution=1536 \
		--param texture_size=4096 --param decimation_target=40000 --param remesh=false
	[ "$(input | jq -S -c 'del(.image_url)')" = '{"decimation_target":40000,"remesh":false,"resolution":1536,"texture_size":4096}' ]
	spent null
}

@test "fal 2026: hunyuan3d-v3 takes input_image_url, enable_pbr always sent, priced \$0.525 with PBR" {
	run_model hunyuan3d-v3 fal-ai/hunyuan3d-v3/image-to-3d --param enable_pbr=true \
		--param face_count=200000
	input | jq -e 'has("input_image_url") and (has("image_url") | not)'
	[ "$(input | jq -S -c 'del(.input_image_url)')" = '{"enable_pbr":true,"face_count":200000}' ]
	spent 0.525
}

@test "fal 2026: hunyuan3d-v3.1-pro geometry only sends enable_pbr=false" {
	run_model hunyuan3d-v3.1-pro fal-ai/hunyuan-3d/v3.1/pro/image-to-3d \
		--param generate_type=Geometry --param enable_pbr=true
	[ "$(input | jq -S -c 'del(.input_image_url)')" = '{"enable_pbr":false,"generate_type":"Geometry"}' ]
	spent null
}

@test "fal 2026: hunyuan3d-v3.1-rapid" {
	run_model hunyuan3d-v3.1-rapid fal-ai/hunyuan-3d/v3.1/rapid/image-to-3d
	[ "$(input | jq -S -c 'del(.input_image_url)')" = '{"enable_pbr":false}' ]
	spent null
}

@test "fal 2026: meshy-6 quad topology, PBR off without texture" {
	run_model meshy-6 fal-ai/meshy/v6/image-to-3d --param topology=quad \
		--param target_polycount=10000 --param should_texture=false --param enable_pbr=true
	[ "$(input | jq -S -c 'del(.image_url)')" = '{"enable_pbr":false,"should_texture":false,"target_polycount":10000,"topology":"quad"}' ]
	spent null
}

@test "fal 2026: rodin-2.5 gets image_urls as an array, tier and GLB always sent, \$0.80 at Extreme-High" {
	run_model rodin-2.5 fal-ai/hyper3d/rodin/v2.5 --param tier=Gen-2.5-Extreme-High \
		--param "quality_mesh_option=50K Quad"
	input | jq -e '(.image_urls | type) == "array" and (.image_urls | length) == 1 and (.image_urls[0] | startswith("http"))'
	[ "$(input | jq -S -c 'del(.image_urls)')" = '{"geometry_file_format":"glb","quality_mesh_option":"50K Quad","tier":"Gen-2.5-Extreme-High"}' ]
	spent 0.8
}

@test "fal 2026: pixal3d answers model_glb" {
	run_model pixal3d fal-ai/pixal3d --param resolution=1536 --param seed=9
	[ "$(input | jq -S -c 'del(.image_url)')" = '{"resolution":1536,"seed":9}' ]
	spent null
}

@test "fal 2026: i2m spend counts each completed request once, a crash after FAL completed does not add it again" {
	id=$("$I2M" submit --model trellis "$FIX/chair.png" "$FIX/sneaker.jpg")
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
	run "$I2M" spend
	echo "$output"
	[[ "${lines[0]}" == "$(date -u +%F): \$0.04 for 2 FAL requests; 0 of unknown price"* ]]
	# Kill the daemon while it fetches a completed (counted) result; the
	# next daemon resumes the request, polls it COMPLETED again and keeps
	# the count as it was.
	fal_fault result slow 1 '"delay_ms":4000'
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	f="$SPOOL_DIR/spend/$(date -u +%F).json"
	wait_for 30 bash -c "[ \"\$(jq .requests '$f')\" = 3 ]"
	fal_stop d1 KILL
	fal_daemon d2
	run "$I2M" wait "$id" --timeout 60
	[ "$status" -eq 0 ]
	fal_state | jq -e '.submits == 3'
	run "$I2M" --json spend
	echo "$output"
	[ "$(echo "$output" | jq .requests)" = 3 ]
	[ "$(echo "$output" | jq .total_usd)" = 0.06 ]
}
