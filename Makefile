# image2model: the one build entry point.
#
#   make            build every program into $(O)/ (default build/)
#   make test       run every suite (C unit tests, bats end to end, browser)
#   make asan       build into build-asan/ with ASan+UBSan and run the tests
#   make valgrind   run the C unit tests and the daemon tests under valgrind
#   make lint       cppcheck, no spool path outside spool/, clang-format
#   make bench      the offline model's figures (BENCHMARKS.md)
#   make fuzz       every libFuzzer target for FUZZ_TIME s (tests/fuzz/)
#   make run        install nothing, start lighttpd + daemon in the foreground
#
# Each part adds its programs in its own fragment (spool/spool.mk, ...), so
# the parts can grow without touching this file.

O ?= build
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wvla -Werror
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fno-strict-aliasing
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(SAN) \
             -Ispool -Iimg2glb -Idaemon -Icgi -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN)
LIBS_BASE = -ljansson -lpthread -lm

BINS :=
UNIT_TESTS :=

all: build-all

include spool/spool.mk
include img2glb/img2glb.mk
include daemon/daemon.mk
include cgi/cgi.mk
include mkformats/mkformats.mk
include tools/tools.mk
include tests/unit/unit.mk
include bench/bench.mk
include tests/fuzz/fuzz.mk

# The 3D viewer is served from our own origin, copied from the pinned npm
# package that tools/deps installs (www/vendor/ is not committed).
WWW_VENDOR := www/vendor/model-viewer.min.js
$(WWW_VENDOR): node_modules/@google/model-viewer/dist/model-viewer.min.js
	@mkdir -p $(@D)
	cp $< $@

node_modules/@google/model-viewer/dist/model-viewer.min.js:
	@echo "node_modules is missing: run tools/deps first" >&2; exit 1

build-all: $(BINS) $(UNIT_TESTS) $(WWW_VENDOR)

# V=1 shows the full command lines.
Q = $(if $(V),,@)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),,printf '  CC  %s\n' $<;)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

test: all
	tests/run $(O)

asan:
	$(MAKE) -j2 O=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run build-asan

valgrind: all
	VALGRIND=1 tests/run $(O)

# Every C file of the tree, tests and benchmarks included: what lint checks
# and format rewrites.  The directories are listed once, here.
C_DIRS := $(wildcard spool daemon img2glb cgi mkformats tools tests bench)
C_SRCS := $(sort $(foreach d,$(C_DIRS),$(shell find $(d) -name '*.[ch]')))

# variableScope is off: style(9) declares locals at the top of a function.
lint:
	cppcheck --quiet --enable=warning,style,performance,portability \
	  --error-exitcode=1 --inline-suppr --std=c11 -D_GNU_SOURCE \
	  --suppress=missingIncludeSystem --suppress=unusedFunction \
	  --suppress=variableScope \
	  $(addprefix -I,$(wildcard spool img2glb daemon cgi mkformats tests/unit)) $(C_DIRS)
	tools/lint-spool-paths
	clang-format --dry-run --Werror $(C_SRCS)

# Strings split by an older clang-format are joined first (it no longer
# splits them: BreakStringLiterals is off).
format:
	tools/rejoin-strings $(C_SRCS)
	clang-format -i $(C_SRCS)

run: all
	tools/run

clean:
	rm -rf build build-asan build-clang build-fuzz

.PHONY: all build-all test asan valgrind lint format run clean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
