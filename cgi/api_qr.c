/*
 * api_qr.c: GET /api/v1/qr/<id>/<stem>.svg, a QR code (libqrencode) as
 * SVG that opens a finished model's page on a phone: the processing page
 * of the batch with model=<stem>.glb, so the phone shows that model with
 * its AR button.
 *
 * Only a model the batch has finished is encoded (the same names as the
 * downloads, batch_lookup_download), so this is no general QR service.
 * The address is this server's as the browser reached it: the Host
 * header, https when the request came over TLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "api.h"

#define QR_QUIET 4 /* modules of white border the spec asks for */

/* The SVG of one QR code: one path of every dark module. */
static char *
qr_svg(const QRcode *q)
{
	int w = q->width, x, y, n;
	size_t cap = (size_t)w * w * 24 + 512, len = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	n = snprintf(s, cap,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    w + 2 * QR_QUIET, w + 2 * QR_QUIET);
	len = (size_t)n;
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++) {
			if (!(q->data[y * w + x] & 1))
				continue;
			n = snprintf(s + len, cap - len, "M%d %dh1v1h-1z",
			    x + QR_QUIET, y + QR_QUIET);
			len += (size_t)n;
		}
	snprintf(s + len, cap - len, "\"/></svg>\n");
	return s;
}

void
api_qr(struct req *r, const char *const *arg)
{
	const char *id = arg[0], *svg = arg[1], *file, *ctype;
	json_t *s = api_summary_or_reply(r, id), *names = NULL;
	char stem[256], glb[300], url[1024], *body = NULL;
	size_t l = strlen(svg), i;
	QRcode *q = NULL;

	if (s == NULL)
		return;
	names = batch_names(s);
	snprintf(stem, sizeof(stem), "%.*s", l > 4 ? (int)(l - 4) : 0, svg);
	snprintf(glb, sizeof(glb), "%s.glb", stem);
	if (l <= 4 || strcmp(svg + l - 4, ".svg") != 0 || names == NULL ||
	    batch_lookup_download(s, names, glb, &i, &file, &ctype) == -1) {
		cgi_error(r, 404, "FILE_NOT_FOUND",
		    json_pack("{s:s}", "task_id", id),
		    "This upload has no finished model by that name.");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/processing.html?taskId=%s&model=%s",
	    r->base, id, glb);
	q = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL || (body = qr_svg(q)) == NULL) {
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The QR code could not be made.");
		goto out;
	}
	cgi_begin(r, 200, "image/svg+xml");
	cgi_header(r, "Cache-Control: private, max-age=3600");
	cgi_header(r, "X-QR-Text: %s", url);
	cgi_end_headers(r);
	FCGX_PutS(body, r->fr->out);
out:
	free(body);
	if (q != NULL)
		QRcode_free(q);
	json_decref(names);
	json_decref(s);
}
