#!/usr/bin/env bats
# submit_rules.bats: one rule for every submission (spool/submit.c).  The
# same bad input sent through the upload handler and through `i2m submit`
# is refused with the same sentence (HTTP: the contract's status and code;
# CLI: exit 1), and neither leaves anything in the spool.  The same good
# input gives the same batch.json, face_limit kept in params.

load lib/server

setup_file() {
	export MAX_FILES=2 MAX_FILE_BYTES=200000
	i2m_start --no-daemon
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	# Under the run's directory, which the servers' user can read.
	T="$I2M_TMP/files.$BATS_TEST_NUMBER"
	mkdir -p "$T"
	chmod 755 "$T"
	printf 'just some text\n' >"$T/notes.png"
	: >"$T/empty.png"
	{ cat "$FIX/chair.png"; head -c 200000 /dev/zero; } >"$T/big.png"
	chmod 644 "$T"/*.png
}

batches() { ls "$SPOOL_DIR/batches" | wc -l; }

# Nothing half-written, no marker, no new batch (there were $1).
spool_clean() {
	[ -z "$(ls -A "$SPOOL_DIR/tmp")" ] || { ls -la "$SPOOL_DIR/tmp"; return 1; }
	[ -z "$(ls -A "$SPOOL_DIR/q/tmp")" ]
	[ "$(batches)" = "$1" ]
}

# same_refusal STATUS CODE HTTP-ARGS... -- CLI-ARGS...: the upload gets
# STATUS and CODE, i2m submit exits 1, and both say the same sentence.
same_refusal() {
	local want=$1 ecode=$2 http=() code msg n
	shift 2
	n=$(batches)
	while [ "$1" != -- ]; do http+=("$1"); shift; done
	shift
	code=$(curl -s -o "$BODY" -w '%{http_code}' "${http[@]}" "$I2M_URL/api/v1/upload/")
	msg=$(jq -r .message "$BODY")
	echo "http: $code $(cat "$BODY")"
	[ "$code" = "$want" ]
	[ "$(jq -r .error_code "$BODY")" = "$ecode" ]
	run i2m_as_user "$I2M_BIN/i2m" submit "$@"
	echo "cli: $status $output"
	[ "$status" -eq 1 ]
	[ "$output" = "i2m: $msg" ]
	spool_clean "$n"
}

@test "same refusal: an unknown model" {
	same_refusal 400 INVALID_MODEL -F "files=@$FIX/chair.png" -F model=no-such \
		-- --model no-such "$FIX/chair.png"
}

@test "same refusal: a FAL model without a key" {
	same_refusal 400 INVALID_MODEL -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 \
		-- --model tripo3d-v2.5 "$FIX/chair.png"
}

@test "same refusal: a parameter value out of range" {
	same_refusal 400 INVALID_PARAMETER -F "files=@$FIX/chair.png" -F resolution=9999 \
		-- --param resolution=9999 "$FIX/chair.png"
}

@test "same refusal: a parameter the model does not have" {
	same_refusal 400 INVALID_PARAMETER -F "files=@$FIX/chair.png" -F bogus=1 \
		-- --param bogus=1 "$FIX/chair.png"
}

@test "same refusal: face_limit is read to its end" {
	same_refusal 400 INVALID_PARAMETER -F "files=@$FIX/chair.png" -F face_limit=12x \
		-- --face-limit 12x "$FIX/chair.png"
}

@test "same refusal: a webhook_url that is not http(s)" {
	same_refusal 400 INVALID_PARAMETER -F "files=@$FIX/chair.png" -F webhook_url=ftp://example.com/x \
		-- --param webhook_url=ftp://example.com/x "$FIX/chair.png"
}

@test "same refusal: bytes that are not an image, whatever the name" {
	same_refusal 415 UNSUPPORTED_FILE_TYPE -F "files=@$T/notes.png" \
		-- "$T/notes.png"
}

@test "same refusal: an empty file" {
	same_refusal 400 EMPTY_FILE -F "files=@$T/empty.png" -- "$T/empty.png"
}

@test "same refusal: too many files" {
	same_refusal 400 TOO_MANY_FILES -F "files=@$FIX/chair.png" -F "files=@$FIX/chair.png" \
		-F "files=@$FIX/sneaker.jpg" -- "$FIX/chair.png" "$FIX/chair.png" "$FIX/sneaker.jpg"
}

@test "same refusal: a file over MAX_FILE_BYTES" {
	same_refusal 413 FILE_TOO_LARGE -F "files=@$T/big.png" -- "$T/big.png"
}

@test "same acceptance: face_limit and parameters stored alike, face_limit in params" {
	code=$(curl -s -o "$BODY" -w '%{http_code}' -F "files=@$FIX/chair.png" -F mode=relief \
		-F face_limit=5000 "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	a=$(jq -r .batch_id "$BODY")
	[ "$(jq -r .face_limit "$BODY")" = 5000 ]
	b=$(i2m_as_user "$I2M_BIN/i2m" submit --face-limit 5000 --param mode=relief "$FIX/chair.png")
	for id in "$a" "$b"; do
		j="$SPOOL_DIR/batches/$id/batch.json"
		[ "$(jq -c '[.params.face_limit, .params.mode]' "$j")" = '[5000,"relief"]' ]
		[ "$(jq -r .face_limit "$j")" = 5000 ]
		[ "$(jq -r '.files[0].input' "$j")" = in/0.png ]
	done
	# Resolved alike too.
	[ "$(jq -S -c .params "$SPOOL_DIR/batches/$a/batch.json")" = "$(jq -S -c .params "$SPOOL_DIR/batches/$b/batch.json")" ]
	# The status answer still names it at the top level.
	[ "$(curl -s "$I2M_URL/api/v1/status/tasks/$b/status" | jq -r .face_limit)" = 5000 ]
}
