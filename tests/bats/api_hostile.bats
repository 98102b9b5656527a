#!/usr/bin/env bats
# api_hostile.bats: hostile client text (issue 10, findings 3 and 4).  An
# error that echoes a client's string (model, field name, file name) is
# still its 4xx with valid UTF-8 JSON, cut on a character boundary; a file
# name with ill-formed UTF-8 is cleaned and the upload accepted.

load lib/server

setup_file() {
	i2m_start --no-daemon
	FIX="$PWD/tests/fixtures"
	export FIX
}

teardown_file() {
	i2m_stop
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
}

# The body is valid UTF-8 JSON (iconv refuses anything else).
valid_json() {
	iconv -f UTF-8 -t UTF-8 "$BODY" >/dev/null && jq -e . "$BODY" >/dev/null
}

@test "hostile: model=\\xff is 400 INVALID_MODEL with valid UTF-8" {
	code=$(req -F "files=@$FIX/chair.png" -F $'model=\xff\xfe' "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ] || { cat "$BODY"; return 1; }
	valid_json
	json_eq .error_code INVALID_MODEL
	[[ "$(jq -r .message "$BODY")" == *$'\xef\xbf\xbd'* ]]
}

@test "hostile: a model name cut inside a character is cut before it" {
	long=$(printf 'm%.0s' $(seq 1 63))$'\xc3\xa9'
	code=$(req -F "files=@$FIX/chair.png" -F "model=$long" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	valid_json
	msg=$(jq -r .message "$BODY")
	[[ "$msg" == *"\"$(printf 'm%.0s' $(seq 1 63))\""* ]] || { echo "$msg"; return 1; }
}

@test "hostile: an invalid field name holding a file is 400 with valid UTF-8" {
	code=$(req -F $'x\xff\xc3=@'"$FIX/chair.png" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ] || { cat "$BODY"; return 1; }
	valid_json
	json_eq .error_code INVALID_FIELD
}

@test "hostile: an unknown field named in bad UTF-8 is 400 naming it" {
	code=$(req -F "files=@$FIX/chair.png" -F model=local -F $'\xed\xa0\x80size=3' "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ] || { cat "$BODY"; return 1; }
	valid_json
	jq -e '.details.field | length > 0' "$BODY" >/dev/null
}

@test "hostile: a PNG named with overlong and surrogate UTF-8 is accepted" {
	code=$(req -F "files=@$FIX/chair.png;filename="$'\xc0\xaf\xed\xa0\x80chair\xe0\x80\xae.png' -F model=local "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ] || { cat "$BODY"; return 1; }
	valid_json
	name=$(jq -r '.uploaded_files[0].filename' "$BODY")
	[[ "$name" == *chair*.png ]] || { echo "$name"; return 1; }
	[[ "$name" != *$'\xc0'* ]]
}

@test "hostile: a non-image with a bad name is 415 with valid UTF-8" {
	printf 'hello' >"$BATS_TEST_TMPDIR/x"
	code=$(req -F "files=@$BATS_TEST_TMPDIR/x;filename="$'\xff\xfe.png' "$I2M_URL/api/v1/upload/")
	[ "$code" = 415 ] || { cat "$BODY"; return 1; }
	valid_json
	json_eq .error_code UNSUPPORTED_FILE_TYPE
}
