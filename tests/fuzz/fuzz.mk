# tests/fuzz/: libFuzzer harnesses, one program per fuzz_*.c, built with
# clang -fsanitize=fuzzer,address,undefined into build-fuzz/ (every
# library is compiled with coverage and the sanitizers, not only the
# harness).  Seeds, and every crash ever found, are in
# tests/fuzz/corpus/<name>/; new inputs go to build-fuzz/fuzz/corpus/.
#   make fuzz                  each target FUZZ_TIME s (default 180)
#   make fuzz FUZZ_TIME=30     the CI regression run (.ci/run)
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_NAMES:%=$(O)/fuzz/%)
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined \
            -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_TIME ?= 180

$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(LIBCGI) $(LIBDAEMON) $(LIBIMG2GLB) $(LIBSNIFF) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(CGI_LIBS) $(DAEMON_LIBS) $(IMG2GLB_LIBS) $(LIBS_BASE)

fuzz-build: $(FUZZ_BINS)

fuzz:
	$(MAKE) -j2 O=build-fuzz CC=clang SAN="$(FUZZ_SAN)" CFLAGS="-O1 -g" fuzz-build
	tests/fuzz/run build-fuzz $(FUZZ_TIME)

.PHONY: fuzz fuzz-build
