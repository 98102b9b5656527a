# img2glb/: the offline model, libimg2glb.a (image -> GLB; decodes and
# encodes with libjpeg-turbo, libpng and libwebp, resizes with stb's
# header; nothing from spool/ or daemon/), and libsniff.a, the one image
# sniffer (sniff.c alone, no dependencies), so that a program which only
# judges bytes (i2m, the upload handler) links no decoder.
# Link order: $(LIBIMG2GLB) $(LIBSNIFF) ... $(IMG2GLB_LIBS).
IMG2GLB_SRCS := $(filter-out img2glb/sniff.c,$(wildcard img2glb/*.c))
IMG2GLB_OBJS := $(IMG2GLB_SRCS:%.c=$(O)/%.o)
LIBIMG2GLB := $(O)/libimg2glb.a
IMG2GLB_LIBS := -lwebp -ljpeg -lpng16 -lstb -lm
LIBSNIFF := $(O)/libsniff.a

$(LIBIMG2GLB): $(IMG2GLB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBSNIFF): $(O)/img2glb/sniff.o
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
