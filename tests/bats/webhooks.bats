#!/usr/bin/env bats
# webhooks.bats: a finished batch is POSTed once to its webhook_url (and
# to WEBHOOK_URL), signed with HMAC-SHA256 of the body under
# WEBHOOK_SECRET, retried from the spool's webhooks/ queue across a
# daemon's death, and never sent to a loopback address unless
# WEBHOOK_ALLOW_PRIVATE=1.  The receiver is tests/bats/lib/hook_listener.py
# on 127.0.0.1; every wait polls for a file, with generous bounds.

load lib/server

SECRET='test-secret with spaces'

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
	L="$BATS_TEST_TMPDIR/hooks"
	mkdir -p "$L"
	proc_start listener "$BATS_TEST_TMPDIR" python3 "$PWD/tests/bats/lib/hook_listener.py" "$L"
	wait_for 20 test -s "$L/port"
	LPORT=$(cat "$L/port")
	HOOK="http://127.0.0.1:$LPORT/hook"
	export WEBHOOK_SECRET="$SECRET" WEBHOOK_BACKOFF_MS=200 WEBHOOK_MAX_ATTEMPTS=20
	export WEBHOOK_ALLOW_PRIVATE=1
	unset WEBHOOK_URL
}

teardown() {
	i2m_stop
	proc_stop listener "$BATS_TEST_TMPDIR" || true
}

# Requests the listener has received (answered anything).
posts() { ls "$L" | grep -c '\.body$' || true; }
# Requests answered with a 2xx, optionally only those for batch $1.
delivered() {
	local h n=0 id=${1:-}
	for h in "$L"/*.headers; do
		[ -f "$h" ] || continue
		grep -q '^answered: 2' "$h" || continue
		[ -z "$id" ] || [ "$(jq -r .batch_id "${h%.headers}.body")" = "$id" ] || continue
		n=$((n + 1))
	done
	echo "$n"
}
# The record of batch $1, target $2 (0 upload, 1 WEBHOOK_URL) in $3/.
record() { echo "$SPOOL_DIR/webhooks/$3/$1.$2.json"; }
# The first request whose body is about batch $1: its number.
post_of() {
	local b
	for b in "$L"/*.body; do
		[ -f "$b" ] || continue
		[ "$(jq -r .batch_id "$b")" = "$1" ] && { basename "$b" .body; return 0; }
	done
	return 1
}
header() { sed -n "s/^$2: //Ip" "$L/$1.headers" | tr -d '\r'; }

# The signature header of request $1 is HMAC-SHA256 of its exact body.
signed() {
	local want got
	want="sha256=$(openssl dgst -sha256 -hmac "$SECRET" <"$L/$1.body" | sed 's/^.*= *//')"
	got=$(header "$1" X-Image2model-Signature)
	echo "want $want got $got"
	[ "$got" = "$want" ]
}

@test "one signed POST per finished batch, not repeated after a restart" {
	i2m_start
	id=$(i2m_upload "$FIX/chair.png" "$FIX/sneaker.jpg" -F "webhook_url=$HOOK" | jq -r .batch_id)
	[ ${#id} -eq 32 ]
	json_eq .webhook_url "$HOOK" "$SPOOL_DIR/batches/$id/batch.json"
	i2m_wait_done "$id" 120
	wait_for 60 test -f "$(record "$id" 0 done)" || { cat "$I2M_DAEMON_LOG"; return 1; }
	json_eq .state delivered "$(record "$id" 0 done)"
	json_eq .attempts 1 "$(record "$id" 0 done)"
	n=$(post_of "$id")
	signed "$n"
	[ "$(header "$n" X-Image2model-Event)" = batch.finished ]
	[ "$(header "$n" X-Image2model-Delivery)" = "$id.0" ]
	[ "$(header "$n" Content-Type)" = application/json ]
	[ "$(header "$n" path)" = /hook ]
	json_eq .event batch.finished "$L/$n.body"
	json_eq .batch_id "$id" "$L/$n.body"
	json_eq .status completed "$L/$n.body"
	json_eq .finished true "$L/$n.body"
	json_eq .successful 2 "$L/$n.body"
	json_eq '[.files[].status] | join(",")' completed,completed "$L/$n.body"
	# A restart sweeps every batch first; a second batch's POST comes
	# after any repeat of the first would have, so counting is exact.
	i2m_stop_daemon
	i2m_start_daemon
	id2=$(i2m_upload_id "$FIX/chair.png" -F "webhook_url=$HOOK")
	i2m_wait_done "$id2" 120
	wait_for 60 test -f "$(record "$id2" 0 done)"
	[ "$(delivered "$id")" = 1 ]
	[ "$(delivered "$id2")" = 1 ]
	[ "$(posts)" = 2 ]
}

@test "a receiver that is down at first gets the POST after a daemon kill -9 and restart" {
	echo 503 >"$L/status"
	i2m_start --no-daemon
	id=$(i2m_upload_id "$FIX/chair.png" -F "webhook_url=$HOOK")
	# The batch finishes; the POST fails (503) and is queued to retry.
	i2m_start_daemon
	i2m_wait_done "$id" 120
	wait_for 60 test -s "$L/1.body"
	proc_stop daemon "$I2M_TMP" KILL || true
	# Wherever the daemon died, the record is waiting or claimed by it.
	rec=$(ls "$SPOOL_DIR"/webhooks/new/"$id".0.json "$SPOOL_DIR"/webhooks/cur/*/"$id".0.json 2>/dev/null | head -1)
	[ -n "$rec" ] || { ls -R "$SPOOL_DIR/webhooks"; return 1; }
	[ ! -e "$(record "$id" 0 done)" ]
	echo 200 >"$L/status"
	i2m_start_daemon
	wait_for 60 test -f "$(record "$id" 0 done)" || { cat "$I2M_DAEMON_LOG"; return 1; }
	json_eq .state delivered "$(record "$id" 0 done)"
	[ "$(jq .attempts "$(record "$id" 0 done)")" -ge 2 ]
	grep -q "webhook $id.0.json: HTTP 503; retry in" "$I2M_DAEMON_LOG"
	grep -q "webhook $id.0.json: delivered" "$I2M_DAEMON_LOG"
	# A second batch's POST comes after any repeat of the first.
	id2=$(i2m_upload_id "$FIX/chair.png" -F "webhook_url=$HOOK")
	i2m_wait_done "$id2" 120
	wait_for 60 test -f "$(record "$id2" 0 done)"
	[ "$(delivered "$id")" = 1 ]
	[ "$(delivered "$id2")" = 1 ]
	n=$(ls "$L"/*.headers | while read -r h; do grep -q '^answered: 2' "$h" && basename "$h" .headers; done | head -1)
	signed "$n"
}

@test "a batch cancelled without a daemon is announced when the daemon starts" {
	i2m_start --no-daemon
	id=$(i2m_upload_id "$FIX/chair.png" -F "webhook_url=$HOOK")
	[ "$(req -X POST -d '' "$I2M_URL/api/v1/status/tasks/$id/cancel")" = 200 ]
	json_eq .files[0].status cancelled "$BODY"
	i2m_start_daemon
	wait_for 60 test -f "$(record "$id" 0 done)" || { cat "$I2M_DAEMON_LOG"; return 1; }
	n=$(post_of "$id")
	json_eq .status cancelled "$L/$n.body"
	json_eq .cancelled 1 "$L/$n.body"
	signed "$n"
	[ "$(delivered "$id")" = 1 ]
}

@test "a loopback receiver without WEBHOOK_ALLOW_PRIVATE is refused and never called" {
	unset WEBHOOK_ALLOW_PRIVATE
	i2m_start
	id=$(i2m_upload_id "$FIX/chair.png" -F "webhook_url=$HOOK")
	i2m_wait_done "$id" 120
	wait_for 60 test -f "$(record "$id" 0 done)" || { cat "$I2M_DAEMON_LOG"; return 1; }
	json_eq .state refused "$(record "$id" 0 done)"
	jq -r .last_error "$(record "$id" 0 done)" | grep -q '127.0.0.1 is a loopback address'
	grep -q "webhook $id.0.json: gave up" "$I2M_DAEMON_LOG"
	# localhost is the same address by another name.
	id2=$(i2m_upload_id "$FIX/chair.png" -F "webhook_url=http://localhost:$LPORT/x")
	i2m_wait_done "$id2" 120
	wait_for 60 test -f "$(record "$id2" 0 done)"
	json_eq .state refused "$(record "$id2" 0 done)"
	[ "$(posts)" = 0 ]
}

@test "a bad webhook_url is refused at upload with 400 and leaves no batch" {
	i2m_start --no-daemon
	for u in ftp://example.com/x http:// 'javascript:alert(1)' 'http://exa mple.com/' \
		"https://example.com/$(head -c 1000 /dev/zero | tr '\0' a)"; do
		code=$(req -F "files=@$FIX/chair.png" -F "webhook_url=$u" "$I2M_URL/api/v1/upload/")
		echo "$u: $code $(cat "$BODY")"
		[ "$code" = 400 ]
		json_eq .error_code INVALID_PARAMETER
		json_eq .details.field webhook_url
		jq -r .message "$BODY" | grep -q '^webhook_url .*\.$'
	done
	[ -z "$(ls -A "$SPOOL_DIR/batches")" ]
	[ -z "$(ls -A "$SPOOL_DIR/tmp")" ]
	[ -z "$(ls -A "$SPOOL_DIR/q/new")" ]
}

@test "WEBHOOK_URL alone announces every batch" {
	export WEBHOOK_URL="http://127.0.0.1:$LPORT/config-hook"
	i2m_start
	id=$(i2m_upload_id "$FIX/chair.png")
	json_eq .webhook_config true "$SPOOL_DIR/batches/$id/batch.json"
	i2m_wait_done "$id" 120
	wait_for 60 test -f "$(record "$id" 1 done)" || { cat "$I2M_DAEMON_LOG"; return 1; }
	json_eq .state delivered "$(record "$id" 1 done)"
	json_eq .target config "$(record "$id" 1 done)"
	n=$(post_of "$id")
	[ "$(header "$n" path)" = /config-hook ]
	[ "$(header "$n" X-Image2model-Delivery)" = "$id.1" ]
	signed "$n"
	[ ! -e "$(record "$id" 0 done)" ]
	[ "$(delivered "$id")" = 1 ]
}
