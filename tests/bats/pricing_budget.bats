#!/usr/bin/env bats
# pricing_budget.bats: FAL_BUDGET_USD_PER_DAY.  An upload whose estimate
# is more than what is left today (the cap minus today's spend file and
# minus what files still queued or running at FAL will cost) gets
# 402 with one sentence naming what is left, and leaves nothing behind;
# one that fits is queued; an unknown price cannot be held to a cap; the
# offline model is never held to it.  No daemon: nothing reaches FAL.

load lib/server

setup_file() {
	export FAL_KEY=pricing-test-key FAL_QUEUE_URL=http://127.0.0.1:9
	export FAL_REST_URL=http://127.0.0.1:9 FAL_BUDGET_USD_PER_DAY=1.00
	i2m_start --no-daemon
	# $0.50 spent today already.
	day=$(date -u +%F)
	mkdir -p "$SPOOL_DIR/spend"
	cat >"$SPOOL_DIR/spend/$day.json" <<-EOF
		{"day": "$day", "total_usd": 0.5, "requests": 1, "unknown_price": 0,
		 "entries": [{"request_id": "r-1", "file": "aa.0", "usd": 0.5, "at": 1}]}
	EOF
	if [ "$(id -u)" = 0 ]; then chown -R nobody "$SPOOL_DIR/spend"; fi
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
}

req() {
	curl -s -o "$BODY" -w '%{http_code}' "$@"
}

spool_clean() {
	[ -z "$(ls -A "$SPOOL_DIR/tmp")" ] && [ -z "$(ls -A "$SPOOL_DIR/q/tmp")" ]
}

@test "budget: over what is left today is 402 naming what is left; nothing is queued" {
	n=$(ls "$SPOOL_DIR/batches" | wc -l)
	# 2 x $0.40 (HD) = $0.80 > $0.50 left.
	code=$(req -F "files=@$FIX/chair.png" -F "files=@$FIX/sneaker.jpg" -F model=tripo3d-v2.5 -F texture=HD "$I2M_URL/api/v1/upload/")
	[ "$code" = 402 ]
	jq -e '.error_code == "BUDGET_EXCEEDED"' "$BODY"
	jq -r .message "$BODY" | grep -F '$0.50'
	jq -r .message "$BODY" | grep -F '$0.80'
	jq -e '.details.budget_left_usd == 0.5 and .details.estimated_cost_usd == 0.8 and .details.budget_usd_per_day == 1' "$BODY"
	[ "$(ls "$SPOOL_DIR/batches" | wc -l)" = "$n" ]
	spool_clean
}

@test "budget: an upload that fits is queued with its estimate" {
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	[ "$(jq .estimated_cost_usd "$BODY")" = 0.3 ]
	# Spend counts when FAL completes; the queued $0.30 is held, and the
	# $0.20 that is left fits a file without texture exactly.
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 -F texture=no "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
}

@test "budget: queued files hold their price until they are done; a cancel gives it back" {
	# Two batches queued by the test above hold $0.50: nothing is left,
	# although nothing has been spent since (two uploads at once cannot
	# both spend what is left).
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 -F texture=no "$I2M_URL/api/v1/upload/")
	[ "$code" = 402 ]
	jq -r .message "$BODY" | grep -F '$0.50 is held by 2 files still queued or running at FAL'
	jq -e '.details.budget_left_usd == 0' "$BODY"
	for id in $(ls "$SPOOL_DIR/batches"); do
		code=$(req -d "" "$I2M_URL/api/v1/status/tasks/$id/cancel")
		[ "$code" = 200 ]
	done
	code=$(req -F "files=@$FIX/chair.png" -F model=tripo3d-v2.5 "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
}

@test "budget: an unknown price is refused with a cap, the offline model never" {
	code=$(req -F "files=@$FIX/chair.png" -F model=pixal3d "$I2M_URL/api/v1/upload/")
	[ "$code" = 402 ]
	jq -r .message "$BODY" | grep -F unknown
	jq -e '.details.estimated_cost_usd == null' "$BODY"
	code=$(req -F "files=@$FIX/chair.png" -F model=local "$I2M_URL/api/v1/upload/")
	[ "$code" = 200 ]
	spool_clean
}

@test "budget: i2m spend shows what is left today" {
	run env SPOOL_DIR="$SPOOL_DIR" "$I2M_BIN/i2m" spend
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == 'budget: $1.00 a day, $0.20 left today ($0.30 held by 1 file queued or running)' ]]
}
