#!/usr/bin/env bats
# api_batches.bats: GET /api/v1/batches (issue 13) with API keys: the
# calling key's batches only, newest first, paged, with state and counts;
# refused without a key; and PUBLIC_URL as the start of every returned
# URL whatever the Host.  Without API_KEYS the list does not exist
# (api_endpoints.bats).  No daemon: the batches stay queued unless
# cancelled, so the counts are known.

load lib/server

setup_file() {
	export API_KEYS="team-a-key team-b-key"
	export PUBLIC_URL=https://models.example.com/
	i2m_start --no-daemon
	A=(-H 'Authorization: Bearer team-a-key')
	FIX="$PWD/tests/fixtures"
	A1=$(i2m_upload "${A[@]}" "$FIX/chair.png" | jq -r .batch_id)
	A2=$(i2m_upload "${A[@]}" "$FIX/chair.png" "$FIX/sneaker.jpg" | jq -r .batch_id)
	B1=$(i2m_upload -H 'Authorization: Bearer team-b-key' "$FIX/sneaker.jpg" | jq -r .batch_id)
	A3=$(i2m_upload "${A[@]}" "$FIX/sneaker.jpg" | jq -r .batch_id)
	export FIX A1 A2 A3 B1
}

@test "batches: no key or a wrong key is 401" {
	code=$(req "$I2M_URL/api/v1/batches")
	[ "$code" = 401 ]
	json_eq .error_code UNAUTHORIZED
	code=$(req -H 'Authorization: Bearer nope' "$I2M_URL/api/v1/batches")
	[ "$code" = 401 ]
}

@test "batches: a key sees its own batches, newest first, with state and counts" {
	for id in "$A1" "$A2" "$A3" "$B1"; do [ ${#id} = 32 ]; done
	code=$(req -H 'Authorization: Bearer team-a-key' "$I2M_URL/api/v1/batches")
	[ "$code" = 200 ]
	json_eq .total 3
	json_eq '[.items[].batch_id] | join(" ")' "$A3 $A2 $A1"
	json_eq '[.items[].total_files] | join(" ")' "1 2 1"
	json_eq '[.items[].status] | unique | join(" ")' queued
	json_eq '.items[1].model' local
	json_eq '.items[0].status_url' "https://models.example.com/api/v1/status/tasks/$A3"
	json_eq '.next_offset' null
	code=$(req -H 'Authorization: Bearer team-b-key' "$I2M_URL/api/v1/batches")
	json_eq '[.items[].batch_id] | join(" ")' "$B1"
	# the key itself is nowhere in the spool
	! grep -rq team-a-key "$SPOOL_DIR/batches"
	[ "$(jq -r .key_id "$SPOOL_DIR/batches/$A1/batch.json")" = \
		"$(printf %s team-a-key | sha256sum | cut -c1-16)" ]
}

@test "batches: pages of limit, next_offset, and bad paging is 400" {
	code=$(req -H 'Authorization: Bearer team-a-key' "$I2M_URL/api/v1/batches?limit=2")
	[ "$code" = 200 ]
	json_eq '[.items[].batch_id] | join(" ")' "$A3 $A2"
	json_eq .next_offset 2
	code=$(req -H 'Authorization: Bearer team-a-key' "$I2M_URL/api/v1/batches?limit=2&offset=2")
	json_eq '[.items[].batch_id] | join(" ")' "$A1"
	json_eq .next_offset null
	json_eq .total 3
	for q in limit=0 limit=101 limit=x offset=-1; do
		code=$(req -H 'Authorization: Bearer team-a-key' "$I2M_URL/api/v1/batches?$q")
		[ "$code" = 400 ] || { echo "$q: $code"; false; }
		json_eq .error_code INVALID_PARAMETER
	done
}

@test "batches: a cancelled file shows in its batch's counts" {
	code=$(req -X POST -H 'Authorization: Bearer team-a-key' "$I2M_URL/api/v1/status/tasks/$A2/cancel")
	[ "$code" = 200 ]
	code=$(req -H 'Authorization: Bearer team-a-key' "$I2M_URL/api/v1/batches?limit=1&offset=1")
	json_eq '.items[0].batch_id' "$A2"
	json_eq '.items[0].cancelled_files' 2
	json_eq '.items[0].failed_files' 2
	json_eq '.items[0].successful_files' 0
	json_eq '.items[0].finished' true
}

@test "public url: the upload's and the status's URLs start with PUBLIC_URL whatever the Host" {
	out=$(i2m_upload -H "Host: other.example" -H "Authorization: Bearer team-a-key" "$FIX/chair.png")
	id=$(echo "$out" | jq -r .batch_id)
	[ "$(echo "$out" | jq -r .status_url)" = "https://models.example.com/api/v1/status/tasks/$id/status" ]
	[ "$(echo "$out" | jq -r .stream_url)" = "https://models.example.com/api/v1/status/tasks/$id/stream" ]
}

@test "public url: a bad PUBLIC_URL is refused by name" {
	run env PUBLIC_URL=ftp://models.example.com "$I2M_BIN/i2m" config PORT
	[ "$status" -ne 0 ]
	[[ $output == *"PUBLIC_URL must be http:// or https://"* ]]
	run env PUBLIC_URL='https://a.example/"x' "$I2M_BIN/i2m" config PORT
	[ "$status" -ne 0 ]
}
