#!/usr/bin/env bats
# fal_formats.bats: the formats a FAL model made beside its GLB (issue 9,
# issue 12).  The double answers like FAL's newer models, with
# model_urls = {glb, obj, mtl, fbx, usdz}: the daemon keeps the provider's
# FBX and USDZ byte for byte in out/ (never converting those again), lists
# them in the file's status as source "provider", and still makes the
# formats the provider did not (STL, 3MF, PLY, OBJ + MTL + texture zip)
# from the GLB.  A model without model_urls gets converted formats only.

load ../fal_double/helpers

setup_file() { fal_double_start; }
teardown_file() { fal_double_stop; }
setup() { fal_setup; fal_daemon d1; }
teardown() { fal_teardown; }

# run_model ID: one photo through the daemon; BATCH, ST (its status).
run_model() {
	BATCH=$("$I2M" submit --model "$1" "$FIX/chair.png")
	run "$I2M" wait "$BATCH" --timeout 90
	fal_file_json "$BATCH" 0
	[ "$status" -eq 0 ]
	ST=$(fal_file_json "$BATCH" 0)
	[ "$(echo "$ST" | jq -r .status)" = completed ]
}

@test "fal formats: the provider's fbx and usdz are kept as they came, the rest is converted" {
	run_model tripo3d-p1
	echo "$ST" | jq -e '[.formats[] | select(.source == "provider") | .name] | sort == ["fbx", "usdz"]'
	echo "$ST" | jq -e '[.formats[] | select(.source == "converted") | .name] | sort == ["3mf", "obj", "ply", "stl"]'
	echo "$ST" | jq -e '.formats[0].name == "glb" and .format_errors == []'
	out="$SPOOL_DIR/batches/$BATCH/out"
	head -c 24 "$out/0.fbx" | grep -q '^; FBX 7.4.0 project file'
	[ "$(echo "$ST" | jq -r '.formats[] | select(.name == "usdz") | .file')" = 0.usdz ]
	unzip -Z1 "$out/0.usdz" | grep -qx model.usda
	[ "$(stat -c %s "$out/0.usdz")" = "$(echo "$ST" | jq -r '.formats[] | select(.name == "usdz") | .size')" ]
	# The provider's bare OBJ is not our OBJ + MTL + texture zip.
	echo "$ST" | jq -e '.formats[] | select(.name == "obj") | .file == "0.obj.zip"'
	fal_state | jq -e '.billed_not_downloaded | length == 0'
}

@test "fal formats: a model without model_urls gets converted formats only" {
	run_model trellis-2
	echo "$ST" | jq -e '[.formats[].name] == ["glb", "obj", "stl", "3mf", "ply", "fbx"]'
	echo "$ST" | jq -e '[.formats[] | select(.source == "provider")] == []'
	echo "$ST" | jq -e '.triangles == 1 and .watertight == false'
}
