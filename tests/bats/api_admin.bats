#!/usr/bin/env bats
# api_admin.bats: the earlier service's endpoints: liveness, detailed
# health, and the admin endpoints under ADMIN_API_KEY (refused without
# it, with a wrong key and with an upload key; 404 when it is not set),
# the cleanup removing only batches older than its hours through the
# retention rule, bad hours refused.  An "old" batch is made by moving
# its batch.json "created" back (what retention reads), never by waiting.

load lib/server

ADMIN=adm-Secret.1
UPKEY=up-key-1

setup_file() {
	export ADMIN_API_KEY=$ADMIN API_KEYS=$UPKEY
	# Only the cleanup under test removes batches.
	export RETENTION_HOURS=0
	i2m_start
}

# A batch of one file, processed; prints its id.
new_batch() {
	local id
	id=$(i2m_upload_id -H "Authorization: Bearer $UPKEY" -F model=local \
		"$FIX/chair.png") || return 1
	[ ${#id} = 32 ] || { echo "upload failed: $id" >&2; return 1; }
	i2m_wait_done "$id" 90 >&2 || return 1
	echo "$id"
}

# age_batch ID HOURS: the batch was created HOURS earlier than it was.
age_batch() {
	local d="$SPOOL_DIR/batches/$1"
	i2m_as_user sh -c 'jq -c --argjson h "$1" ".created -= (\$h * 3600000)" \
		"$2/batch.json" >"$2/.batch.json.age" &&
		mv "$2/.batch.json.age" "$2/batch.json"' sh "$2" "$d"
	jq -e '.created | . == floor' "$d/batch.json" >/dev/null
}

# The last test runs a second server (without the admin key); its
# directory is kept here, since a test's exports do not reach this.
teardown_file() {
	i2m_stop
	if [ -s "$BATS_FILE_TMPDIR/second" ]; then
		I2M_TMP=$(cat "$BATS_FILE_TMPDIR/second")
		I2M_LOG="$I2M_TMP/lighttpd.log" I2M_DAEMON_LOG="$I2M_TMP/daemon.log"
		i2m_stop
	fi
}

admin() {
	req -H "X-API-Key: $ADMIN" "$@"
}

@test "liveness: 200 {\"status\":\"alive\"}" {
	code=$(req "$I2M_URL/api/v1/health/liveness")
	[ "$code" = 200 ]
	[ "$(jq -c . "$BODY")" = '{"status":"alive"}' ]
}

@test "detailed: every component healthy with a message, overall healthy" {
	code=$(req "$I2M_URL/api/v1/health/detailed")
	[ "$code" = 200 ]
	json_eq .status healthy
	for c in spool daemon disk fal; do
		json_eq ".components.$c.status" healthy
		jq -e ".components.$c.message | length > 0" "$BODY" >/dev/null
	done
	json_eq .components.daemon.alive 1
	jq -e '.components.disk.free_mb >= 0' "$BODY" >/dev/null
}

@test "detailed: without a daemon, the daemon is unhealthy and so is the whole" {
	i2m_stop_daemon
	code=$(req "$I2M_URL/api/v1/health/detailed")
	i2m_start_daemon
	[ "$code" = 200 ]
	json_eq .status unhealthy
	json_eq .components.daemon.status unhealthy
	json_eq .components.daemon.alive 0
	json_eq .components.spool.status healthy
	grep -q 'i2m-daemon' "$BODY"
}

@test "admin: refused without a key (401), with a wrong key or an upload key (403)" {
	for p in disk-usage system-health list-files; do
		code=$(req "$I2M_URL/api/v1/admin/$p")
		[ "$code" = 401 ] || { echo "$p: $code"; return 1; }
		json_eq .error_code UNAUTHORIZED
		jq -r .message "$BODY" | grep -q ADMIN_API_KEY
		for h in "X-API-Key: wrong" "Authorization: Bearer wrong" \
			"Authorization: Bearer $UPKEY" "X-API-Key: ${ADMIN}x" \
			"X-API-Key: ${ADMIN%?}"; do
			code=$(req -H "$h" "$I2M_URL/api/v1/admin/$p")
			[ "$code" = 403 ] || { echo "$p $h: $code"; return 1; }
			json_eq .error_code FORBIDDEN
			json_eq .status_code 403
		done
	done
	code=$(req -X POST -d '{"hours":1}' "$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 401 ]
	code=$(req -X POST -H "Authorization: Bearer $UPKEY" -d '{"hours":1}' \
		"$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 403 ]
}

@test "admin: disk-usage, by X-API-Key and by Bearer" {
	new_batch >/dev/null
	code=$(admin "$I2M_URL/api/v1/admin/disk-usage")
	[ "$code" = 200 ]
	jq -e '.spool_bytes > 0 and .free_bytes >= 0 and .batch_count >= 1' "$BODY" >/dev/null
	jq -e '.areas.batches > 0 and (.areas | has("q") and has("tmp") and has("trash"))' "$BODY" >/dev/null
	jq -e '.spool_bytes == (.areas | add)' "$BODY" >/dev/null
	code=$(req -H "Authorization: Bearer $ADMIN" "$I2M_URL/api/v1/admin/disk-usage")
	[ "$code" = 200 ]
}

@test "admin: system-health shows the heartbeats, the queue and the workers" {
	code=$(admin "$I2M_URL/api/v1/admin/system-health")
	[ "$code" = 200 ]
	json_eq .status healthy
	json_eq .daemons_alive 1
	json_eq '.heartbeats | length' 1
	jq -e '.heartbeats[0].heartbeat > 0 and .workers.total >= 1' "$BODY" >/dev/null
	jq -e '.queue_depth >= 0 and .spool_writable' "$BODY" >/dev/null
}

@test "admin: list-files pages the batches, newest first, with ages, sizes and counts" {
	a=$(new_batch)
	b=$(new_batch)
	age_batch "$a" 2
	code=$(admin "$I2M_URL/api/v1/admin/list-files?limit=500")
	[ "$code" = 200 ]
	total=$(jq -r .total "$BODY")
	[ "$total" -ge 2 ]
	json_eq '.items | length' "$total"
	json_eq '.items[0].batch_id' "$b"
	json_eq ".items[] | select(.batch_id == \"$a\") | .file_count" 1
	jq -e ".items[] | select(.batch_id == \"$a\") | .age_hours >= 2 and .bytes > 0" "$BODY" >/dev/null
	jq -e '[.items[].batch_id | test("^[0-9a-f]{32}$")] | all' "$BODY" >/dev/null
	jq -e '[.items[].created] | . == (sort | reverse)' "$BODY" >/dev/null
	# Pages do not overlap and together are the whole list.
	all=$(jq -c '[.items[].batch_id]' "$BODY")
	code=$(admin "$I2M_URL/api/v1/admin/list-files?limit=1&offset=1")
	[ "$code" = 200 ]
	json_eq '.items | length' 1
	json_eq .limit 1
	json_eq .offset 1
	json_eq '.items[0].batch_id' "$(jq -r '.[1]' <<<"$all")"
	code=$(admin "$I2M_URL/api/v1/admin/list-files?offset=$total")
	[ "$code" = 200 ]
	json_eq '.items | length' 0
	for q in limit=0 limit=501 limit=abc offset=-1 offset=x; do
		code=$(admin "$I2M_URL/api/v1/admin/list-files?$q")
		[ "$code" = 400 ] || { echo "$q: $code"; return 1; }
		json_eq .error_code INVALID_PARAMETER
		json_eq .details.field "${q%%=*}"
	done
}

@test "admin: cleanup removes only the batches older than its hours" {
	old=$(new_batch)
	young=$(new_batch)
	age_batch "$old" 10
	code=$(admin -X POST -H 'Content-Type: application/json' \
		-d '{"hours": 5}' "$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 200 ]
	jq -e --arg o "$old" '.removed_batches | index($o) != null' "$BODY" >/dev/null
	jq -e --arg y "$young" '.removed_batches | index($y) == null' "$BODY" >/dev/null
	json_eq .removed "$(jq '.removed_batches | length' "$BODY")"
	[ ! -e "$SPOOL_DIR/batches/$old" ]
	[ -d "$SPOOL_DIR/batches/$young" ]
	code=$(req "$I2M_URL/api/v1/status/tasks/$old/status")
	[ "$code" = 404 ]
	code=$(req "$I2M_URL/api/v1/status/tasks/$young/status")
	[ "$code" = 200 ]
	# Nothing else is that old now: a second run removes nothing.
	code=$(admin -X POST -d '{"hours": 5.5}' "$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 200 ]
	json_eq .removed 0
}

@test "admin: cleanup with bad hours is 400 and removes nothing" {
	id=$(new_batch)
	age_batch "$id" 100
	for body in '{}' '{"hours":0}' '{"hours":-1}' '{"hours":"5"}' \
		'{"hours":null}' '{"hours":1e300}' 'hours=5' '[5]' ''; do
		code=$(admin -X POST -d "$body" "$I2M_URL/api/v1/admin/cleanup")
		[ "$code" = 400 ] || { echo "$body: $code"; return 1; }
		json_eq .error_code INVALID_HOURS
		json_eq .details.field hours
		jq -r .message "$BODY" | grep -q 'positive number'
	done
	# A POST without any body (lighttpd's 411) is the same 400.
	code=$(curl -s -o "$BODY" -w '%{http_code}' -X POST -H "X-API-Key: $ADMIN" \
		"$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 400 ]
	json_eq .error_code INVALID_HOURS
	[ -d "$SPOOL_DIR/batches/$id" ]
	code=$(admin "$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 405 ]
}

@test "admin: without ADMIN_API_KEY the admin endpoints are 404, health still answers" {
	i2m_stop
	unset ADMIN_API_KEY
	i2m_start --no-daemon
	echo "$I2M_TMP" >"$BATS_FILE_TMPDIR/second"
	for p in disk-usage system-health list-files; do
		code=$(admin "$I2M_URL/api/v1/admin/$p")
		[ "$code" = 404 ] || { echo "$p: $code"; return 1; }
		json_eq .error_code NOT_FOUND
		jq -r .message "$BODY" | grep -q ADMIN_API_KEY
	done
	code=$(admin -X POST -d '{"hours":1}' "$I2M_URL/api/v1/admin/cleanup")
	[ "$code" = 404 ]
	code=$(req "$I2M_URL/api/v1/health/liveness")
	[ "$code" = 200 ]
}
