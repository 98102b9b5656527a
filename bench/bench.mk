# bench/: benchmarks that print figures (not run by make test).
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(O)/bench/%)

$(O)/bench/%: $(O)/bench/%.o $(LIBDAEMON) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LIBS) $(LIBS_BASE)

bench: $(BENCH_BINS) $(BINS)
	bench/run $(O)

.PHONY: bench
