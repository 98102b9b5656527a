# bench/: benchmarks that print figures (not run by make test; built with
# every build so they keep compiling).  `make bench` runs the offline
# model's figures (BENCHMARKS.md "Offline model"); the HTTP API's are
# `bench/api.sh BUILD` (minutes of load, so never run implicitly).
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(O)/bench/%)

$(O)/bench/%: $(O)/bench/%.o $(LIBIMG2GLB) $(LIBSNIFF)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(IMG2GLB_LIBS) $(LIBS_BASE)

# sse_bench writes statuses as the daemon does: it needs the spool.
$(O)/bench/sse_bench: $(O)/bench/sse_bench.o $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_BASE)

BINS += $(BENCH_BINS)

bench: $(O)/bench/bench_local
	$(O)/bench/bench_local

.PHONY: bench
