# daemon/: i2m-daemon, plus libdaemon.a (everything but main.c and
# convert.c) for tests.
# The offline model it runs is img2glb/ (libimg2glb.a).
DAEMON_SRCS := $(filter-out daemon/main.c daemon/convert.c,$(wildcard daemon/*.c))
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(O)/%.o)
LIBDAEMON := $(O)/libdaemon.a
DAEMON_LIBS := -lcurl -lcrypto

$(LIBDAEMON): $(DAEMON_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(O)/bin/i2m-daemon: $(O)/daemon/main.o $(LIBDAEMON) $(LIBIMG2GLB) $(LIBSNIFF) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LIBS) $(IMG2GLB_LIBS) $(LIBS_BASE)

# i2m-convert: one offline conversion under resource limits, started by
# the local backend (convert.h); it must sit next to i2m-daemon.
$(O)/bin/i2m-convert: $(O)/daemon/convert.o $(LIBIMG2GLB) $(LIBSNIFF)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(IMG2GLB_LIBS) $(LIBS_BASE)

BINS += $(O)/bin/i2m-daemon $(O)/bin/i2m-convert
