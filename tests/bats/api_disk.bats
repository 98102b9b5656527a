#!/usr/bin/env bats
# api_disk.bats: below DISK_FLOOR_MB an upload is 507 and leaves nothing;
# readiness names the disk.

load lib/server

setup_file() {
	export DISK_FLOOR_MB=1099511627776
	i2m_start --no-daemon
}

@test "disk floor: upload is 507 INSUFFICIENT_STORAGE, nothing stays" {
	b="$BATS_TEST_TMPDIR/b"
	code=$(curl -s -o "$b" -w '%{http_code}' -F "files=@tests/fixtures/chair.png" "$I2M_URL/api/v1/upload/")
	[ "$code" = 507 ]
	json_eq .error_code INSUFFICIENT_STORAGE "$b"
	[ -z "$(ls -A "$SPOOL_DIR/batches")" ]
	[ -z "$(ls -A "$SPOOL_DIR/tmp")" ]
	[ -z "$(ls -A "$SPOOL_DIR/q/new")" ]
}

@test "disk floor: readiness is 503 naming the disk" {
	b="$BATS_TEST_TMPDIR/b"
	code=$(curl -s -o "$b" -w '%{http_code}' "$I2M_URL/api/v1/health/readiness")
	[ "$code" = 503 ]
	jq -e '.details.failing | index("disk") != null' "$b" >/dev/null
}

@test "disk floor: retry is 507 with a sentence, nothing queued; cancel still works" {
	b="$BATS_TEST_TMPDIR/b"
	id=$(DISK_FLOOR_MB=0 i2m_as_user "$I2M_BIN/i2m" submit --model local tests/fixtures/chair.png)
	[ -n "$id" ]
	code=$(curl -s -o "$b" -w '%{http_code}' -X POST -d "" "$I2M_URL/api/v1/status/tasks/$id/cancel")
	[ "$code" = 200 ]
	code=$(curl -s -o "$b" -w '%{http_code}' -X POST -d "" "$I2M_URL/api/v1/status/tasks/$id/retry")
	[ "$code" = 507 ] || { cat "$b"; return 1; }
	json_eq .error_code INSUFFICIENT_STORAGE "$b"
	jq -e '.message | test("disk")' "$b" >/dev/null
	[ -z "$(ls -A "$SPOOL_DIR/q/new")" ]
}
