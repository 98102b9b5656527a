#!/usr/bin/env bats
# api_ratelimit.bats: RATE_LIMIT_PER_MIN, requests per minute per client
# address (issue 10, "Refuse before buffering"): over it, 429 with
# Retry-After and the contract's JSON.

load lib/server

setup_file() {
	export RATE_LIMIT_PER_MIN=5
	i2m_start --no-daemon
}

teardown_file() {
	i2m_stop
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
}

@test "rate limit: more than RATE_LIMIT_PER_MIN requests a minute get 429 with Retry-After" {
	# Counted per program and per wall-clock minute: 12 requests to the
	# API program within one minute always pass the limit of 5 (even
	# when the minute turns during the loop, one window gets at least 6).
	n429=0
	for i in $(seq 1 12); do
		code=$(req "$I2M_URL/api/v1/models/available")
		if [ "$code" = 429 ]; then
			n429=$((n429 + 1))
			cp "$BODY" "$BATS_TEST_TMPDIR/b429"
			cp "$HDR" "$BATS_TEST_TMPDIR/h429"
		fi
	done
	[ "$n429" -ge 1 ]
	json_eq .error_code RATE_LIMITED "$BATS_TEST_TMPDIR/b429"
	json_eq .status_code 429 "$BATS_TEST_TMPDIR/b429"
	ra=$(awk 'tolower($1) == "retry-after:" {print $2 + 0}' "$BATS_TEST_TMPDIR/h429")
	[ "$ra" -ge 1 ] && [ "$ra" -le 60 ]
}
