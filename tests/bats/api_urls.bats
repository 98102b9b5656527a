#!/usr/bin/env bats
# api_urls.bats: every URL the API returns is absolute (issue 13), as the
# earlier service's were, so a front end on another origin can follow
# them: the status's model_url, thumbnail_url, formats[].url and
# preview_model.url, download/all's download_urls, the stream's events.
# Without PUBLIC_URL they start with the request's own scheme and Host
# (PUBLIC_URL: api_batches.bats).  Each returned URL answers as it is.

load lib/server

setup_file() {
	export CORS_ORIGINS="https://app.example http://localhost:3000"
	i2m_start
	FIX="$PWD/tests/fixtures"
	ID=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg")
	export FIX ID
	i2m_wait_done "$ID" 120
}

# every_url FILE: every value of a key ending in "url" or "urls" in FILE.
every_url() {
	jq -r '[.. | objects | to_entries[] | select(.key | test("url$|urls$")) | .value] | flatten | map(select(type == "string"))[]' "$1"
}

@test "urls: the status's URLs are absolute on the request's Host, and each answers" {
	code=$(req "$I2M_URL/api/v1/status/tasks/$ID")
	[ "$code" = 200 ]
	every_url "$BODY" >"$BATS_TEST_TMPDIR/urls"
	# two models, two thumbnails and every format of each
	[ "$(wc -l <"$BATS_TEST_TMPDIR/urls")" -ge 6 ]
	grep -c "thumbs/$ID/" "$BATS_TEST_TMPDIR/urls"
	while read -r u; do
		case $u in "$I2M_URL/api/v1/"*) ;; *) echo "not absolute: $u"; false ;; esac
		c=$(curl -s -o /dev/null -w '%{http_code}' -I "$u")
		[ "$c" = 200 ] || { echo "$u answered $c"; false; }
	done <"$BATS_TEST_TMPDIR/urls"
}

@test "urls: another Host gets URLs under that host" {
	code=$(req -H 'Host: models.example:8443' "$I2M_URL/api/v1/status/tasks/$ID/status")
	[ "$code" = 200 ]
	json_eq '.files[0].model_url' "http://models.example:8443/api/v1/download/$ID/chair.glb"
	json_eq '.files[1].thumbnail_url' "http://models.example:8443/api/v1/thumbs/$ID/1"
	json_eq '[.files[].formats[].url | startswith("http://models.example:8443/api/v1/download/")] | all' true
	json_eq '.result.results[0].model_url' "http://models.example:8443/api/v1/download/$ID/chair.glb"
	# and the next request on the usual Host is not served the other one's
	code=$(req "$I2M_URL/api/v1/status/tasks/$ID/status")
	json_eq '.files[0].model_url' "$I2M_URL/api/v1/download/$ID/chair.glb"
}

@test "urls: download/all's download_urls are absolute" {
	code=$(req -H 'Host: models.example' "$I2M_URL/api/v1/download/$ID/all")
	[ "$code" = 200 ]
	json_eq '.download_urls | join(" ")' \
		"http://models.example/api/v1/download/$ID/chair.glb http://models.example/api/v1/download/$ID/sneaker.glb"
}

@test "urls: the stream's events carry absolute URLs of the stream's Host" {
	out="$BATS_TEST_TMPDIR/s"
	curl -s -N --max-time 30 -H 'Host: models.example:8443' \
		"$I2M_URL/api/v1/status/tasks/$ID/stream" >"$out"
	grep -q '^event: task_completed' "$out"
	grep '^data: ' "$out" | cut -c7- >"$out.j"
	jq -s -e --arg id "$ID" 'map(select(.model_url != null)) | length >= 2 and all(.model_url | startswith("http://models.example:8443/api/v1/download/\($id)/"))' "$out.j"
	jq -s -e 'map(.result? // empty | .results[].model_url) | length == 2 and all(startswith("http://models.example:8443/"))' "$out.j"
}

@test "urls: two origins (CORS_ORIGINS) each get their CORS header and absolute URLs" {
	for o in https://app.example http://localhost:3000; do
		code=$(req -H "Origin: $o" "$I2M_URL/api/v1/status/tasks/$ID/status")
		[ "$code" = 200 ]
		grep -qi "^Access-Control-Allow-Origin: $o" "$HDR"
		json_eq '.files[0].model_url' "$I2M_URL/api/v1/download/$ID/chair.glb"
		code=$(req -H "Origin: $o" "$(jq -r '.files[0].model_url' "$BODY")")
		[ "$code" = 200 ]
		grep -qi "^Access-Control-Allow-Origin: $o" "$HDR"
	done
}
