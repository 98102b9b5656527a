#!/usr/bin/env bats
# lint.bats: tools/lint-spool-paths, the check in `make lint` that no C
# file outside spool/ builds a spool path.  It must fire on each kind of
# offence, stay quiet on comments and ordinary strings, and pass on the
# tree itself.

setup() {
	LINT="$PWD/tools/lint-spool-paths"
	SRC="$BATS_TEST_TMPDIR/t.c"
}

@test "lint: the tree builds no spool path outside spool/" {
	run "$LINT"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "lint: a formatted spool path is reported with its line" {
	printf '%s\n' '#include <stdio.h>' \
		'/* batches/<id>/out/ is the spool'"'"'s */' \
		'static void f(char *p, const char *id) {' \
		'	snprintf(p, 64, "batches/%s/out", id);' \
		'}' >"$SRC"
	run "$LINT" "$SRC"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$SRC:4:"*'"batches/%s/out"'* ]]
	[[ "$output" != *"$SRC:2:"* ]]
}

@test "lint: every kind of offence fires" {
	local bad
	for bad in '"%s/q/new"' '"daemons"' '"q/cur/%s"' '"tmp/.ready"' \
		'"trash/%s"' '"state/%d.json"' '"out/%s"' '"in/%d.%s"' \
		'"remote/"' '"cancel/%d"'; do
		printf 'const char *s = %s;\n' "$bad" >"$SRC"
		run "$LINT" "$SRC"
		[ "$status" -eq 1 ] || { echo "missed: $bad"; return 1; }
	done
	printf '%s\n' 'int d = spool_batch_dir(sp, id, "out");' >"$SRC"
	run "$LINT" "$SRC"
	[ "$status" -eq 1 ]
	printf '%s\n' 'int fd = openat(cgi.sp.root, name, 0);' >"$SRC"
	run "$LINT" "$SRC"
	[ "$status" -eq 1 ]
}

@test "lint: comments and ordinary strings are not offences" {
	printf '%s\n' '/* see batches/<id>/state/ and "q/new" */' \
		'// daemons/<d>.lock too' \
		'const char *t = "image/*";	/* not a comment start above */' \
		'const char *h = "# HELP Files waiting in q/new.";' \
		'const char *c = "cancelled", *o = "output", *u = "in queue";' \
		'int x = r->path[0];' >"$SRC"
	run "$LINT" "$SRC"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# A "/*" inside a string must not hide the next lines.
	printf '%s\n' 'const char *t = "image/*";' \
		'const char *p = "batches/%s";' >"$SRC"
	run "$LINT" "$SRC"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$SRC:2:"* ]]
}
