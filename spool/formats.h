/*
 * formats.h: the one table of download formats of a model
 * (spool/formats.c) and the names their files have under a batch's out/.
 * A new format is a row there: the daemon makes the rows marked
 * FMT_CONVERT (daemon/formats.c through i2m-formats), the API serves any
 * row by its download extension and streams one row for a whole batch
 * (all.zip?format=).  Included by spool.h.
 */
#ifndef SPOOL_FORMATS_H
#define SPOOL_FORMATS_H

#include <stddef.h>

/* flags of a format_info */
#define FMT_CONVERT 1 /* the daemon makes it from the GLB (i2m-formats) */
#define FMT_PRINT 2 /* scaled for printing: print_height_mm, z up, base z = 0 */

/*
 * A download format of a model (the one table, formats.c): its name in
 * status and all.zip?format=, the download extension ("<stem>.<ext>",
 * and the file out/<n>.<ext>), a label for people and the content type.
 */
struct format_info {
	const char *name;
	const char *ext;
	const char *label;
	const char *content_type;
	unsigned flags;
};

size_t formats_count(void);
const struct format_info *formats_at(size_t i);
/* The row named name, NULL when none. */
const struct format_info *formats_find(const char *name);
/* "<file>.<ext>": the name of f's file under out/; 0 or -1. */
int
spool_format_file(int file, const struct format_info *f, char *out, size_t len);
/* "<file>.web.glb": the light preview of a large GLB under out/. */
int spool_preview_file(int file, char *out, size_t len);
/* The default height of a model scaled for printing (print_height_mm). */
#define SPOOL_PRINT_HEIGHT_DEF 100.0
#define SPOOL_PRINT_HEIGHT_MIN 1.0
#define SPOOL_PRINT_HEIGHT_MAX 2000.0

#endif
