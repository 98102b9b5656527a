# tests/unit/: one program per test_*.c, linked with every library.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(O)/utest/%)

$(O)/utest/%: $(O)/tests/unit/%.o $(O)/tests/unit/tap.o $(LIBDAEMON) $(LIBIMG2GLB) $(LIBSNIFF) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LIBS) $(IMG2GLB_LIBS) $(LIBS_BASE)
$(O)/utest/test_img2glb: $(O)/tests/unit/glb_check.o $(O)/tests/unit/shape_check.o $(O)/tests/unit/side_check.o
$(O)/utest/test_decode: $(O)/tests/unit/glb_check.o $(O)/tests/unit/shape_check.o
# test_cgi tests the handlers' library: linked with it and libfcgi.
$(O)/utest/test_cgi: $(O)/tests/unit/test_cgi.o $(O)/tests/unit/tap.o $(LIBCGI) $(LIBSNIFF) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CGI_LIBS) $(LIBS_BASE)
