# tools/: i2m, the operators' command-line tool (spool + the sniffer only:
# no curl, no image decoder).
$(O)/bin/i2m: $(O)/tools/i2m.o $(O)/tools/i2m_spend.o $(O)/tools/i2m_user.o $(O)/tools/i2m_lighttpd.o $(LIBSNIFF) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_BASE)

BINS += $(O)/bin/i2m
