#!/usr/bin/env bats
# api_upload.bats: POST /api/v1/upload against a real lighttpd + handlers
# + daemon: every refusal of the contract's table, the limits, traversal
# in names and ids, and that a refused or cut-off upload leaves nothing
# in the spool.

load lib/server

setup_file() {
	i2m_start
}

# The spool holds no submission in progress and no queue marker.
spool_clean() {
	[ -z "$(ls -A "$SPOOL_DIR/tmp")" ] || { ls -la "$SPOOL_DIR/tmp"; return 1; }
	[ -z "$(ls -A "$SPOOL_DIR/q/tmp")" ]
}

batches() { ls "$SPOOL_DIR/batches" | wc -l; }

@test "upload: two images give 200 with the contract's fields, durable before the answer" {
	code=$(req -F "files=@$FIX/chair.png" -F "files=@$FIX/sneaker.jpg" "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	id=$(jq -r .batch_id "$BODY")
	[[ "$id" =~ ^[0-9a-f]{32}$ ]]
	json_eq .job_id "$id"
	json_eq .task_id "$id"
	json_eq .total_files 2
	json_eq .status queued
	json_eq .model local
	json_eq .face_limit null
	json_eq '.uploaded_files[0].filename' chair.png
	json_eq '.uploaded_files[0].content_type' image/png
	json_eq '.uploaded_files[1].content_type' image/jpeg
	json_eq '.uploaded_files[1].file_id' 1
	json_eq '.uploaded_files[0].file_size' "$(stat -c %s "$FIX/chair.png")"
	# Durable: the batch and its inputs are there the moment we are answered.
	[ -f "$SPOOL_DIR/batches/$id/batch.json" ]
	cmp "$FIX/chair.png" "$SPOOL_DIR/batches/$id/in/0.png"
	cmp "$FIX/sneaker.jpg" "$SPOOL_DIR/batches/$id/in/1.jpg"
	i2m_wait_done "$id" 60
}

@test "upload: also without the trailing slash, no redirect" {
	code=$(req -F "files=@$FIX/chair.png" "$I2M_URL/api/v1/upload")
	[ "$code" = 200 ]
}

@test "upload: 25 files are accepted" {
	args=()
	for i in $(seq 1 25); do args+=(-F "files=@$FIX/sneaker.jpg"); done
	code=$(req "${args[@]}" "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	json_eq .total_files 25
	id=$(jq -r .batch_id "$BODY")
	[ "$(ls "$SPOOL_DIR/batches/$id/in" | wc -l)" = 25 ]
}

@test "upload: 26 files are 400 TOO_MANY_FILES and leave nothing" {
	n=$(batches)
	args=()
	for i in $(seq 1 26); do args+=(-F "files=@$FIX/sneaker.jpg"); done
	code=$(req "${args[@]}" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code TOO_MANY_FILES
	json_eq .status_code 400
	json_eq .error true
	[ "$(batches)" = "$n" ]
	spool_clean
}

@test "upload: a file of MAX_FILE_BYTES + 1 is 413 FILE_TOO_LARGE" {
	big="$BATS_TEST_TMPDIR/big.png"
	{ head -c 1048576 "$FIX/chair.png"; head -c $((10485760 + 1 - 1048576)) /dev/zero; } >"$big"
	[ "$(stat -c %s "$big")" = 10485761 ] || { head -c 8 "$FIX/chair.png" >"$big"; head -c 10485753 /dev/zero >>"$big"; }
	[ "$(stat -c %s "$big")" = 10485761 ]
	n=$(batches)
	code=$(req -F "files=@$FIX/chair.png" -F "files=@$big" "$I2M_URL/api/v1/upload/")
	[ "$code" = 413 ]
	json_eq .error_code FILE_TOO_LARGE
	json_eq .details.limit_bytes 10485760
	json_eq .details.filename big.png
	[ "$(batches)" = "$n" ]
	spool_clean
}

@test "upload: a file of exactly MAX_FILE_BYTES is accepted" {
	f="$BATS_TEST_TMPDIR/exact.png"
	head -c 8 "$FIX/chair.png" >"$f"
	head -c $((10485760 - 8)) /dev/zero >>"$f"
	code=$(req -F "files=@$f" "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
}

@test "upload: text named .png is 415 UNSUPPORTED_FILE_TYPE" {
	echo "hello, I am not a picture" >"$BATS_TEST_TMPDIR/fake.png"
	n=$(batches)
	code=$(req -F "files=@$FIX/chair.png" -F "files=@$BATS_TEST_TMPDIR/fake.png;type=image/png" "$I2M_URL/api/v1/upload/")
	[ "$code" = 415 ]
	json_eq .error_code UNSUPPORTED_FILE_TYPE
	grep -q fake.png "$BODY"
	[ "$(batches)" = "$n" ]
	spool_clean
}

@test "upload: WebP is judged by its bytes" {
	f="$BATS_TEST_TMPDIR/x.bin"
	printf 'RIFF\x10\x00\x00\x00WEBPVP8 ' >"$f"
	code=$(req -F "files=@$f" "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	json_eq '.uploaded_files[0].content_type' image/webp
}

@test "upload: an empty file is 400 EMPTY_FILE" {
	: >"$BATS_TEST_TMPDIR/empty.png"
	code=$(req -F "files=@$BATS_TEST_TMPDIR/empty.png" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code EMPTY_FILE
	spool_clean
}

@test "upload: a form with no file is 400 NO_FILES" {
	code=$(req -F "face_limit=1000" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code NO_FILES
	# A browser form with no file chosen sends an empty unnamed part.
	code=$(req -F "files=@/dev/null;filename=" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code NO_FILES
	spool_clean
}

@test "upload: not multipart is 400" {
	code=$(req -H 'Content-Type: application/json' -d '{}' "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code INVALID_CONTENT_TYPE
}

@test "upload: GET is 405" {
	code=$(req "$I2M_URL/api/v1/upload/")
	[ "$code" = 405 ]
	json_eq .error_code METHOD_NOT_ALLOWED
}

@test "upload: model parameters are validated, 400 naming the field" {
	code=$(req -F "files=@$FIX/chair.png" -F model=local -F resolution=9999 "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .details.field resolution
	grep -q resolution <(jq -r .message "$BODY")
	code=$(req -F "files=@$FIX/chair.png" -F bogus=1 "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .details.field bogus
	code=$(req -F "files=@$FIX/chair.png" -F model=no-such-model "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code INVALID_MODEL
	# FAL models need a key; this server has none.
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	code=$(req -F "files=@$FIX/chair.png" -F face_limit=abc "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .details.field face_limit
	spool_clean
}

@test "upload: valid parameters are stored typed in batch.json" {
	code=$(req -F "files=@$FIX/chair.png" -F model=local -F mode=relief -F resolution=64 -F thickness=0.1 -F face_limit=5000 "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	id=$(jq -r .batch_id "$BODY")
	json_eq .face_limit 5000
	b="$SPOOL_DIR/batches/$id/batch.json"
	json_eq .params.mode relief "$b"
	json_eq '.params.resolution | type' number "$b"
	json_eq .params.resolution 64 "$b"
	json_eq .params.thickness 0.1 "$b"
	json_eq .face_limit 5000 "$b"
}

@test "upload: a plain HTML form post gets 303 to the processing page" {
	code=$(req -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' -D "$BATS_TEST_TMPDIR/h" -F "files=@$FIX/chair.png" "$I2M_URL/api/v1/upload/")
	[ "$code" = 303 ]
	grep -iqE '^Location: /processing\?taskId=[0-9a-f]{32}' "$BATS_TEST_TMPDIR/h"
}

@test "upload: ../ in a file name never reaches a path" {
	code=$(req -F "files=@$FIX/chair.png;filename=../../../../tmp/evil.png" "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	id=$(jq -r .batch_id "$BODY")
	json_eq '.uploaded_files[0].filename' evil.png
	[ ! -e /tmp/evil.png ]
	[ -f "$SPOOL_DIR/batches/$id/in/0.png" ]
	i2m_wait_done "$id" 60
	code=$(req "$I2M_URL/api/v1/download/$id/evil.glb")
	[ "$code" = 200 ]
}

@test "upload: a body cut off midway leaves nothing in the spool" {
	n=$(batches)
	bnd=XyZcutoff
	# Announce 3 MB, send the part headers and 64 kB, then hang up.
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /api/v1/upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: 3000000\r\n\r\n--%s\r\nContent-Disposition: form-data; name="files"; filename="c.png"\r\n\r\n' "$bnd" "$bnd" >&5
	head -c 65536 "$FIX/chair.png" >&5
	exec 5>&-
	sleep 1
	# The same with a whole body whose multipart ends early.
	{
		printf -- '--%s\r\nContent-Disposition: form-data; name="files"; filename="c.png"\r\nContent-Type: image/png\r\n\r\n' "$bnd"
		head -c 50000 "$FIX/chair.png"
	} >"$BATS_TEST_TMPDIR/trunc"
	code=$(req -H "Content-Type: multipart/form-data; boundary=$bnd" --data-binary "@$BATS_TEST_TMPDIR/trunc" "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	json_eq .error_code MALFORMED_FORM
	[ "$(batches)" = "$n" ]
	spool_clean
	[ -z "$(ls -A "$SPOOL_DIR/q/new")" ] || [ "$(ls "$SPOOL_DIR/q/new" | cut -d. -f1 | sort -u | while read -r b; do [ -d "$SPOOL_DIR/batches/$b" ] || echo orphan; done)" = "" ]
}
