#!/usr/bin/env bats
# api_lighttpd_errors.bats: errors lighttpd makes itself are the
# contract's JSON with CORS headers, and a POST without a body is
# accepted (issue 10, finding 15).

load lib/server

setup_file() {
	export CORS_ORIGINS="https://app.example"
	export MAX_FILES=1 MAX_FILE_BYTES=100000
	i2m_start --no-daemon
}

teardown_file() {
	i2m_stop
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
}

is_error_json() {
	jq -e --argjson s "$1" '.error == true and .status_code == $s and (.error_code | test("^[A-Z_]+$")) and (.message | length > 0)' "$BODY" >/dev/null ||
		{ echo "not the contract's error: $(head -c 300 "$BODY")" >&2; return 1; }
	grep -qi '^Content-Type: application/json' "$HDR"
}

@test "lighttpd errors: a POST without a body reaches cancel (no 411)" {
	id=$(i2m_as_user "$I2M_BIN/i2m" submit --model local tests/fixtures/chair.png)
	code=$(curl -s -D "$HDR" -o "$BODY" -w '%{http_code}' -X POST -H 'Origin: https://app.example' "$I2M_URL/api/v1/status/tasks/$id/cancel")
	[ "$code" = 200 ] || { cat "$BODY"; return 1; }
	json_eq '.files[0].status' cancelled
	grep -qi '^Access-Control-Allow-Origin: https://app.example' "$HDR"
}

@test "lighttpd errors: a bodiless upload POST is 400 NO_FILES, not 411" {
	code=$(curl -s -D "$HDR" -o "$BODY" -w '%{http_code}' -X POST "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	is_error_json 400
	json_eq .error_code NO_FILES
}

@test "lighttpd errors: 413 from lighttpd is JSON with CORS" {
	head -c 400000 /dev/zero >"$BATS_TEST_TMPDIR/big"
	code=$(req -H 'Origin: https://app.example' -F "files=@$BATS_TEST_TMPDIR/big" "$I2M_URL/api/v1/upload/")
	[ "$code" = 413 ]
	is_error_json 413
	grep -qi '^Access-Control-Allow-Origin: https://app.example' "$HDR"
}

@test "lighttpd errors: 431 and 501 are JSON" {
	big=$(head -c 70000 /dev/zero | tr '\0' a)
	code=$(req -H "X-Big: $big" "$I2M_URL/api/v1/health")
	[ "$code" = 431 ]
	is_error_json 431
	code=$(req -X FROB "$I2M_URL/api/v1/health")
	[ "$code" = 501 ]
	is_error_json 501
}
