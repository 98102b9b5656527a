# spool/: libspool.a, the spool protocol shared by cgi/, daemon/ and tools/.
SPOOL_SRCS := $(wildcard spool/*.c)
SPOOL_OBJS := $(SPOOL_SRCS:%.c=$(O)/%.o)
LIBSPOOL := $(O)/libspool.a

$(LIBSPOOL): $(SPOOL_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
