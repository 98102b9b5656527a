# spool/: libspool.a, the spool protocol shared by cgi/, daemon/ and tools/.
# The submission rule (submit.c) judges files by img2glb's one sniffer,
# which has no dependencies; its object rides along so that every program
# linking libspool gets it whatever its link order.
SPOOL_SRCS := $(wildcard spool/*.c)
SPOOL_OBJS := $(SPOOL_SRCS:%.c=$(O)/%.o) $(O)/img2glb/sniff.o
LIBSPOOL := $(O)/libspool.a

$(LIBSPOOL): $(SPOOL_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
