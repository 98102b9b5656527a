#!/usr/bin/env bats
# offline_model.bats: every GLB the built-in offline model produces in its
# unit test must pass the Khronos glTF validator with 0 errors and 0
# warnings; and the harness must really catch a broken GLB.
#
# Env: BUILD (default build), the unit test is $BUILD/utest/test_img2glb;
# the cwd is the repository root.

load lib/common

setup_file() {
	export BUILD=${BUILD:-build}
	san_init "$BATS_FILE_TMPDIR/san"
	export GLB_DIR="$BATS_FILE_TMPDIR/glb"
	mkdir -p "$GLB_DIR"
	# Run once for the whole file; the tests below look at the results.
	echo 255 >"$BATS_FILE_TMPDIR/rc"
	if [ -x "$BUILD/utest/test_img2glb" ]; then
		I2M_GLB_OUT="$GLB_DIR" "$BUILD/utest/test_img2glb" \
			>"$BATS_FILE_TMPDIR/tap" 2>&1
		echo $? >"$BATS_FILE_TMPDIR/rc"
	fi
}

# ASan/UBSan builds: a report from the unit test fails the suite.
teardown_file() {
	san_check "$BATS_FILE_TMPDIR/san" "$BATS_FILE_TMPDIR/tap"
}

@test "offline model: unit test passes and writes its GLBs" {
	[ -x "$BUILD/utest/test_img2glb" ]
	grep '^not ok' "$BATS_FILE_TMPDIR/tap" || true
	[ "$(cat "$BATS_FILE_TMPDIR/rc")" -eq 0 ]
	n=$(ls "$GLB_DIR"/*.glb | wc -l)
	[ "$n" -ge 20 ]
}

@test "offline model: every GLB validates with 0 errors and 0 warnings" {
	ls "$GLB_DIR"/*.glb >/dev/null
	run node tests/tools/validate.js "$GLB_DIR"/*.glb
	echo "$output" | grep -v 'errors=0 warnings=0' || true
	[ "$status" -eq 0 ]
	! echo "$output" | grep -qv 'errors=0 warnings=0 '
}

@test "offline model: validator rejects a GLB with a wrong length" {
	f=$(ls "$GLB_DIR"/*.glb | head -1)
	size=$(stat -c %s "$f")
	head -c $((size - 4)) "$f" >"$BATS_TEST_TMPDIR/short.glb"
	run node tests/tools/validate.js "$BATS_TEST_TMPDIR/short.glb"
	[ "$status" -ne 0 ]
}

@test "offline model: validator rejects wrong POSITION bounds" {
	f=$(ls "$GLB_DIR"/*.glb | head -1)
	# Same length, so only the bounds are wrong: "max":[0.5 -> "max":[9.5
	perl -0777 -pe 's/"max":\[0\./"max":[9./' "$f" >"$BATS_TEST_TMPDIR/bounds.glb"
	[ "$(stat -c %s "$f")" -eq "$(stat -c %s "$BATS_TEST_TMPDIR/bounds.glb")" ]
	! cmp -s "$f" "$BATS_TEST_TMPDIR/bounds.glb"
	run node tests/tools/validate.js "$BATS_TEST_TMPDIR/bounds.glb"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q ACCESSOR_MAX_MISMATCH
}

@test "offline model: validator says not glTF for other bytes" {
	printf 'hello\n' >"$BATS_TEST_TMPDIR/text.glb"
	run node tests/tools/validate.js "$BATS_TEST_TMPDIR/text.glb"
	[ "$status" -eq 2 ]
}

# The sample photos' models seen from the front, at 45 degrees and from the
# side (tests/tools/render.js: three model-viewer views per PNG), kept in
# tests/screenshots/offline/ to be looked at.  A view with nothing drawn
# compresses to a few KB of floor colour; a textured model is far larger.
@test "offline model: sample models render from the front, 45 degrees and the side" {
	[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: run tools/deps"; false; }
	out=tests/screenshots/offline
	rm -rf "$out"
	run timeout 180 node tests/tools/render.js "$out" \
		"$GLB_DIR/chair.glb" "$GLB_DIR/sneaker.glb" "$GLB_DIR/sneaker_relief.glb"
	echo "$output"
	[ "$status" -eq 0 ]
	for f in chair sneaker sneaker_relief; do
		size=$(stat -c %s "$out/$f.png")
		echo "$f.png: $size bytes"
		[ "$size" -gt 30000 ]
	done
}
