# tools/: i2m, the operators' command-line tool.
$(O)/bin/i2m: $(O)/tools/i2m.o $(LIBDAEMON) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LIBS) $(LIBS_BASE)

BINS += $(O)/bin/i2m
