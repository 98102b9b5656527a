#!/usr/bin/env bats
# pricing.bats: the price before the money, without a budget: prices and
# rules in models/available (null when unknown), estimated_cost_usd in the
# upload answer, the 2026 rows' fields validated (unknown ones refused
# with 400 naming them), parameters stored resolved (Tripo's pbr always
# there, no texture = no PBR), and `i2m spend`.  No daemon: nothing here
# reaches FAL.

load lib/server

setup_file() {
	export FAL_KEY=pricing-test-key FAL_QUEUE_URL=http://127.0.0.1:9
	export FAL_REST_URL=http://127.0.0.1:9
	unset FAL_BUDGET_USD_PER_DAY
	i2m_start --no-daemon
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
}

req() {
	curl -s -o "$BODY" -w '%{http_code}' "$@"
}

model() { jq -c --arg id "$1" '.models[] | select(.id == $id)' "$BODY"; }

@test "pricing: models/available carries price_usd and price_rules; unknown is null, never 0" {
	[ "$(req "$I2M_URL/api/v1/models/available")" = 200 ]
	[ "$(model tripo3d-v2.5 | jq .price_usd)" = 0.3 ]
	model tripo3d-v2.5 | jq -e '.price_rules | map(select(.param == "texture" and .value == "no"))[0].add_usd == -0.1'
	model tripo3d-v2.5 | jq -e '.price_rules | map(select(.param == "texture" and .value == "HD"))[0].add_usd == 0.1'
	model hunyuan3d-v2 | jq -e '.price_usd == 0.16 and .price_rules[0].param == "textured_mesh" and .price_rules[0].factor == 3'
	model rodin-2.5 | jq -e '.price_usd == 0.4 and .price_rules[0].value == "Gen-2.5-Extreme-High"'
	[ "$(model local | jq .price_usd)" = 0 ]
	for m in tripo3d-h3.1 tripo3d-p1 trellis-2 hunyuan3d-v3.1-pro hunyuan3d-v3.1-rapid meshy-6 pixal3d; do
		[ "$(model $m | jq .price_usd)" = null ] || { echo "$m"; false; }
	done
	# Every new row is offered, with its FAL id.
	[ "$(model rodin-2.5 | jq -r .fal_model_id)" = fal-ai/hyper3d/rodin/v2.5 ]
	[ "$(model hunyuan3d-v3 | jq -r .fal_model_id)" = fal-ai/hunyuan3d-v3/image-to-3d ]
	[ "$(model hunyuan3d-v3.1-pro | jq -r .fal_model_id)" = fal-ai/hunyuan-3d/v3.1/pro/image-to-3d ]
	[ "$(model meshy-6 | jq -r .fal_model_id)" = fal-ai/meshy/v6/image-to-3d ]
}

@test "pricing: the upload answer carries estimated_cost_usd for the batch" {
	code=$(req -F "files=@$FIX/chair.png" -F "files=@$FIX/sneaker.jpg" -F model=tripo3d-v2.5 -F texture=HD "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	[ "$(jq .estimated_cost_usd "$BODY")" = 0.8 ]
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 -F texture=no "$I2M_URL/api/v1/upload/")
	[ "$(jq .estimated_cost_usd "$BODY")" = 0.2 ]
	code=$(req -F "files=@$FIX/chair.png" -F model=hunyuan3d-v2 -F textured_mesh=true "$I2M_URL/api/v1/upload/")
	[ "$(jq .estimated_cost_usd "$BODY")" = 0.48 ]
	code=$(req -F "files=@$FIX/chair.png" -F model=local "$I2M_URL/api/v1/upload/")
	[ "$(jq .estimated_cost_usd "$BODY")" = 0 ]
	# Unknown is null, not 0.
	code=$(req -F "files=@$FIX/chair.png" -F model=pixal3d "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	[ "$(jq .estimated_cost_usd "$BODY")" = null ]
}

@test "pricing: Tripo's pbr is stored explicitly; no texture stores pbr=false" {
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	b="$SPOOL_DIR/batches/$(jq -r .batch_id "$BODY")/batch.json"
	[ "$(jq -c .params "$b")" = '{"pbr":false}' ]
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 -F texture=no -F pbr=true "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	b="$SPOOL_DIR/batches/$(jq -r .batch_id "$BODY")/batch.json"
	[ "$(jq -c -S .params "$b")" = '{"pbr":false,"texture":"no"}' ]
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-h3.1 -F texture=false "$I2M_URL/api/v1/upload/")
	b="$SPOOL_DIR/batches/$(jq -r .batch_id "$BODY")/batch.json"
	[ "$(jq -c -S .params "$b")" = '{"pbr":false,"texture":false}' ]
}

@test "pricing: the new rows' fields are validated before anything is queued" {
	n=$(ls "$SPOOL_DIR/batches" | wc -l)
	# field=value pairs that must be refused, per model.
	while read -r m f v; do
		code=$(req -F "files=@$FIX/chair.png" -F model=$m -F "$f=$v" "$I2M_URL/api/v1/upload/")
		[ "$code" = 400 ] || { echo "$m $f=$v: $code"; false; }
		[ "$(jq -r .details.field "$BODY")" = "$f" ] || { cat "$BODY"; false; }
	done <<-EOF
		tripo3d-h3.1 texture_quality ultra
		tripo3d-h3.1 quad true
		tripo3d-h3.1 seed 3
		tripo3d-p1 face_limit 50000
		trellis-2 resolution 2048
		trellis-2 ss_guidance_rescale 0.5
		hunyuan3d-v3 face_count 1000
		hunyuan3d-v3 generate_type Sketch
		hunyuan3d-v3.1-pro generate_type LowPoly
		hunyuan3d-v3.1-rapid enable_pbr maybe
		meshy-6 topology hex
		meshy-6 enable_rigging true
		rodin-2.5 tier Gen-3
		rodin-2.5 seed 70000
		rodin-2.5 geometry_file_format fbx
		pixal3d resolution 512
		pixal3d textur_size 2048
	EOF
	[ "$(ls "$SPOOL_DIR/batches" | wc -l)" = "$n" ]
	[ -z "$(ls -A "$SPOOL_DIR/tmp")" ]
}

@test "pricing: i2m spend shows the day's spend file" {
	day=$(date -u +%F)
	run env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/i2m" spend
	[ "$status" -eq 0 ]
	[[ "$output" == "$day: \$0.00 for 0 FAL requests"* ]]
	mkdir -p "$SPOOL_DIR/spend"
	cat >"$SPOOL_DIR/spend/$day.json" <<-EOF
		{"day": "$day", "total_usd": 0.5, "requests": 3, "unknown_price": 1,
		 "entries": [
		  {"request_id": "r-1", "file": "aa.0", "usd": 0.3, "at": 1764620000000},
		  {"request_id": "r-2", "file": "aa.1", "usd": 0.2, "at": 1764620001000},
		  {"request_id": "r-3", "file": "bb.0", "usd": null, "at": 1764620002000}]}
	EOF
	run env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/i2m" spend
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "${lines[0]}" == "$day: \$0.50 for 3 FAL requests; 1 of unknown price"* ]]
	[[ "${lines[1]}" == *aa.0*r-1*'$0.30' ]]
	[[ "${lines[3]}" == *bb.0*r-3*"price unknown" ]]
	run env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/i2m" --json spend "$day"
	[ "$(echo "$output" | jq .total_usd)" = 0.5 ]
	run env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/i2m" spend 2026-02-30
	[ "$status" -eq 1 ]
	rm -rf "$SPOOL_DIR/spend"
}
