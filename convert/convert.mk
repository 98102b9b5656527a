# convert/: i2m-convert, the helper the daemon starts to make a model's
# other formats from its GLB (Assimp, lib3mf, libarchive, stb) and the
# light preview (jansson for the glTF JSON; gltfpack at run time).  It links
# nothing of the spool: it reads a GLB and writes to standard output.
CONVERT_SRCS := $(wildcard convert/*.c)
CONVERT_OBJS := $(CONVERT_SRCS:%.c=$(O)/%.o)
CONVERT_LIBS := -lassimp -l3MF -larchive -ljansson -lstb -lm

$(O)/bin/i2m-convert: $(CONVERT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CONVERT_LIBS)

BINS += $(O)/bin/i2m-convert
