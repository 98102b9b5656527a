# mkformats/: i2m-formats, the helper the daemon starts to make a model's
# other formats from its GLB (Assimp, lib3mf, libarchive, stb) and the
# light preview (jansson for the glTF JSON; gltfpack at run time).  It links
# nothing of the spool: it reads a GLB and writes to standard output.
MKFORMATS_SRCS := $(wildcard mkformats/*.c)
MKFORMATS_OBJS := $(MKFORMATS_SRCS:%.c=$(O)/%.o)
MKFORMATS_LIBS := -lassimp -l3MF -larchive -ljansson -lstb -lm

$(O)/bin/i2m-formats: $(MKFORMATS_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(MKFORMATS_LIBS)

BINS += $(O)/bin/i2m-formats
