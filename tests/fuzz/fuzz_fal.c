/*
 * fuzz_fal.c: the FAL backend's readers of FAL's answers
 * (daemon/fal_queue.c): the submit answer -> request record for every
 * FAL model of the table, a COMPLETED-with-error status + result ->
 * reason, logs -> progress, an error answer's body -> one sentence, a
 * result -> the mesh URL of every model.  The input is one answer body;
 * JSON or not, nothing may crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fal_queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static int ready;
	struct fal_resp rs;
	json_t *ans;
	char err[512], text[512];
	size_t i;

	if (!ready) {
		char e[256];

		setenv("FAL_KEY", "fuzz", 1);
		if (config_load(&cfg, e, sizeof(e)) == -1)
			abort();
		ready = 1;
	}
	memset(&rs, 0, sizeof(rs));
	rs.code = 422;
	rs.body = malloc(size + 1);
	if (rs.body == NULL)
		return 0;
	memcpy(rs.body, data, size);
	rs.body[size] = '\0';
	rs.len = size;
	snprintf(rs.ctype, sizeof(rs.ctype), "application/json");
	fal_error_text(&rs, text, sizeof(text));
	ans = json_loadb((const char *)data, size, 0, NULL);
	if (ans != NULL) {
		fal_detail_text(ans, text, sizeof(text));
		fal_model_error(ans, ans, err, sizeof(err));
		fal_model_error(ans, NULL, err, sizeof(err));
		(void)fal_logs_progress(json_object_get(ans, "logs"));
		(void)fal_run_progress(
		    json_object_get(ans, "logs"), 12345, 60000);
		for (i = 0; i < models_count(); i++) {
			const struct model_info *m = models_at(i);
			const char *field = NULL;
			json_t *rec;

			if (strcmp(m->provider, "fal") != 0)
				continue;
			rec = fal_q_record(&cfg, m, ans,
			    "https://v3.fal.media/files/x.png", 1);
			json_decref(rec);
			(void)fal_mesh_url(m, ans, &field);
		}
		json_decref(ans);
	}
	free(rs.body);
	return 0;
}
