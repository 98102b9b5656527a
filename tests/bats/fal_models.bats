#!/usr/bin/env bats
# fal_models.bats: the four FAL models get their parameters under the right
# field names and with the right JSON types (the double, like FAL, ignores
# unknown fields, which fal_teardown refuses, and fails a wrong type at run
# time), and their results land in out/.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; fal_daemon d1; }
teardown() { fal_teardown; }

# input: the JSON input the double received for the only request.
input() { fal_state | jq -c '.requests[0].input | del(.image_url, .input_image_url)'; }

@test "fal: tripo3d-v2.5 parameters, face_limit from the batch, a preview" {
	id=$("$I2M" submit --model tripo3d-v2.5 --face-limit 4000 \
		--param texture=HD --param pbr=true --param seed=7 \
		--param texture_seed=9 --param auto_size=false \
		--param texture_alignment=geometry --param orientation=align_image \
		"$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	echo "$(input)"
	[ "$(input)" = '{"auto_size":false,"orientation":"align_image","pbr":true,"seed":7,"texture":"HD","texture_alignment":"geometry","texture_seed":9,"face_limit":4000}' ] ||
		[ "$(input | jq -S -c .)" = '{"auto_size":false,"face_limit":4000,"orientation":"align_image","pbr":true,"seed":7,"texture":"HD","texture_alignment":"geometry","texture_seed":9}' ]
	fal_state | jq -e '.requests[0].model == "tripo3d/tripo/v2.5/image-to-3d"'
	fal_state | jq -e '.requests[0].input.image_url | startswith("http")'
	# The preview image is kept and named in the status.
	f=$(fal_file_json "$id" 0)
	[ "$(echo "$f" | jq -r .rendered_image_file)" = 0.png ]
	[ "$(echo "$f" | jq -r .rendered_image_type)" = image/png ]
	[ -s "$SPOOL_DIR/batches/$id/out/0.png" ]
	node tests/tools/validate.js "$SPOOL_DIR/batches/$id/out/0.glb"
}

@test "fal: a face_limit parameter wins over the batch's" {
	id=$("$I2M" submit --model tripo3d-v2.5 --face-limit 4000 --param face_limit=900 "$FIX/chair.png")
	"$I2M" wait "$id" --timeout 30
	[ "$(input | jq .face_limit)" -eq 900 ]
}

@test "fal: an older batch's top-level face_limit is sent as the parameter" {
	# Batches written before face_limit became a parameter hold it beside
	# params only: the daemon folds it in (the test fails if it reads
	# params before folding).
	fal_stop d1
	id=$("$I2M" submit --model tripo3d-v2.5 --face-limit 4000 "$FIX/chair.png")
	b=$SPOOL_DIR/batches/$id/batch.json
	jq -c '.face_limit = .params.face_limit | del(.params.face_limit)' "$b" >"$b.new"
	jq -e '.face_limit == 4000 and (.params | has("face_limit") | not)' "$b.new"
	mv "$b.new" "$b"
	fal_daemon d2
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$(input | jq .face_limit)" -eq 4000 ]
}

@test "fal: trellis parameters as integers and numbers; face_limit not sent" {
	id=$("$I2M" submit --model trellis --face-limit 3000 --param seed=3 \
		--param ss_guidance_strength=8 --param ss_sampling_steps=20 \
		--param slat_guidance_strength=2.5 --param slat_sampling_steps=14 \
		--param mesh_simplify=0.92 --param texture_size=2048 "$FIX/sneaker.jpg")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	input | jq -e '.seed == 3 and (.seed|type) == "number"'
	input | jq -e '.ss_guidance_strength == 8 and .ss_sampling_steps == 20'
	input | jq -e '.slat_guidance_strength == 2.5 and .slat_sampling_steps == 14'
	input | jq -e '.mesh_simplify == 0.92 and .texture_size == 2048'
	input | jq -e 'has("face_limit") | not'
	fal_state | jq -e '.requests[0].model == "fal-ai/trellis"'
	# No preview from this model.
	[ "$(fal_file_json "$id" 0 | jq -r .rendered_image_file)" = null ]
}

@test "fal: hunyuan3d-v2 takes the image as input_image_url" {
	id=$("$I2M" submit --model hunyuan3d-v2 --param seed=11 \
		--param num_inference_steps=30 --param guidance_scale=5.5 \
		--param octree_resolution=512 --param textured_mesh=true "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	fal_state | jq -e '.requests[0].input | has("input_image_url") and (has("image_url") | not)'
	fal_state | jq -e '.requests[0].model == "fal-ai/hunyuan3d/v2"'
	[ "$(input | jq -S -c .)" = '{"guidance_scale":5.5,"num_inference_steps":30,"octree_resolution":512,"seed":11,"textured_mesh":true}' ]
}

@test "fal: triposr always asks for GLB; booleans stay booleans" {
	id=$("$I2M" submit --model triposr --param do_remove_background=false \
		--param foreground_ratio=0.75 --param mc_resolution=128 "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	[ "$(input | jq -S -c .)" = '{"do_remove_background":false,"foreground_ratio":0.75,"mc_resolution":128,"output_format":"glb"}' ]
	fal_state | jq -e '.requests[0].model == "fal-ai/triposr"'
}

@test "fal: progress goes in_queue, processing (from logs), downloading, completed" {
	fal_ctl config '{"queue_ms":400,"run_ms":1500}'
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	seen=""
	for i in $(seq 1 100); do
		s=$(fal_file_json "$id" 0 | jq -r '"\(.status) \(.progress) \(.queue_position)"')
		case "$s" in
		in_queue*0) [[ "$seen" == *Q* ]] || seen="${seen}Q" ;;
		processing*) p=${s#processing }; p=${p% *}
			[ "$p" -gt 20 ] && [ "$p" -lt 95 ] && { [[ "$seen" == *P* ]] || seen="${seen}P"; } ;;
		completed*) break ;;
		esac
		sleep 0.05
	done
	echo "seen=$seen last=$s"
	[ "$seen" = QP ]
	[ "$(fal_file_json "$id" 0 | jq -r .status)" = completed ]
}

@test "fal: one worker reuses its connection for every call" {
	fal_ctl config '{"run_ms":600}'
	id=$("$I2M" submit --model trellis "$FIX/chair.png")
	run "$I2M" wait "$id" --timeout 30
	[ "$status" -eq 0 ]
	s=$(fal_state)
	echo "$s" | jq -c '{connections, http_requests}'
	# initiate, PUT, submit, ~10 polls, result, download: one connection
	# (the control calls of this test open their own, one each).
	[ "$(echo "$s" | jq '.http_requests - .connections')" -ge 10 ]
}
