/*
 * test_models.c: unit tests of the model table (spool/models.h: lookup,
 * parameter parsing, what models/available lists with and without a FAL
 * key) and of config_load (bad values named, defaults, env over file).
 * Neither touches a spool.
 */
#include <stdlib.h>
#include <string.h>

#include "spool.h"
#include "tap.h"

static void
test_models(void)
{
	const struct model_info *m = models_find("trellis");
	struct config c;
	char err[256];
	json_t *v, *a;

	TAP_OK(m != NULL && strcmp(m->fal_id, "fal-ai/trellis") == 0,
	    "trellis maps to fal-ai/trellis");
	TAP_OK(models_param_parse(
	           m, "texture_size", "1024", &v, err, sizeof(err)) == 0 &&
	        json_integer_value(v) == 1024,
	    "texture_size 1024 accepted");
	json_decref(v);
	TAP_OK(models_param_parse(
	           m, "texture_size", "1000", &v, err, sizeof(err)) == -1 &&
	        strstr(err, "texture_size") != NULL,
	    "texture_size 1000 refused naming the field");
	TAP_OK(models_param_parse(
	           m, "mesh_simplify", "2", &v, err, sizeof(err)) == -1,
	    "mesh_simplify out of range refused");
	TAP_OK(models_param_parse(m, "nope", "2", &v, err, sizeof(err)) == -1 &&
	        strstr(err, "nope") != NULL,
	    "unknown parameter refused");
	m = models_find("tripo3d-v2.5");
	TAP_OK(models_param_parse(m, "pbr", "yes", &v, err, sizeof(err)) == 0 &&
	        json_is_true(v),
	    "pbr yes is true");
	TAP_OK(models_param_parse(
	           m, "texture", "ultra", &v, err, sizeof(err)) == -1 &&
	        strstr(err, "no, standard, HD") != NULL,
	    "texture enum lists its values");
	TAP_OK(
	    models_param_parse(m, "seed", "12abc", &v, err, sizeof(err)) == -1,
	    "seed must be a whole number");
	memset(&c, 0, sizeof(c));
	a = models_available_json(&c);
	TAP_OK(json_array_size(a) == 1, "without a key only the local model");
	json_decref(a);
	snprintf(c.fal_key, sizeof(c.fal_key), "k");
	a = models_available_json(&c);
	TAP_OK(json_array_size(a) == models_count(), "with a key every model");
	TAP_OK(strcmp(models_default(&c), "tripo3d-v2.5") == 0,
	    "default with a key is tripo3d-v2.5");
	json_decref(a);
}

static void
test_config(void)
{
	struct config c;
	char err[256];

	setenv("WORKERS", "abc", 1);
	TAP_OK(config_load(&c, err, sizeof(err)) == -1 &&
	        strstr(err, "WORKERS") != NULL,
	    "bad WORKERS named: %s", err);
	setenv("WORKERS", "3", 1);
	setenv("MAX_FILES", "0", 1);
	TAP_OK(config_load(&c, err, sizeof(err)) == -1 &&
	        strstr(err, "MAX_FILES") != NULL,
	    "MAX_FILES 0 refused");
	unsetenv("MAX_FILES");
	setenv("DEFAULT_MODEL", "trellis", 1);
	unsetenv("FAL_KEY");
	TAP_OK(config_load(&c, err, sizeof(err)) == -1 &&
	        strstr(err, "DEFAULT_MODEL") != NULL,
	    "FAL default model without a key refused");
	unsetenv("DEFAULT_MODEL");
	TAP_OK(config_load(&c, err, sizeof(err)) == 0 && c.workers == 3 &&
	        c.max_files == 25 && c.port == 8080,
	    "defaults and env override");
	setenv("I2M_CONFIG", "/nonexistent/i2m.conf", 1);
	TAP_OK(config_load(&c, err, sizeof(err)) == -1,
	    "missing named config file refused");
	unsetenv("I2M_CONFIG");
	unsetenv("WORKERS");
}

/*
 * Every row's settings for people name a parameter of the row, label each
 * of its choices (true and false for a boolean), and are at most three;
 * every row says what it is good at.
 */
static void
test_model_settings(void)
{
	size_t i, k, bad = 0;

	for (i = 0; i < models_count(); i++) {
		const struct model_info *m = models_at(i);

		if (m->good_at == NULL || m->good_at[0] == '\0' ||
		    m->typical_s <= 0 || m->nsettings < 1 || m->nsettings > 3)
			bad++;
		for (k = 0; k < m->nsettings; k++) {
			const struct model_setting *st = &m->settings[k];
			const struct model_param *p =
			    models_param(m, st->param);
			size_t want = 0, got = 1;
			const char *c;

			if (p == NULL) {
				bad++;
				continue;
			}
			if (p->type == PT_BOOL)
				want = 2;
			else if (p->choices != NULL)
				for (want = 1, c = p->choices; *c; c++)
					want += *c == '|';
			if (st->choices == NULL) {
				bad += want == 2 && p->type == PT_BOOL;
				continue;
			}
			for (c = st->choices; *c; c++)
				got += *c == '|';
			bad += got != want;
		}
	}
	TAP_OK(bad == 0,
	    "model rows: good_at, 1-3 settings, choice labels match (%zu wrong)",
	    bad);
}

int
main(void)
{
	unsetenv("FAL_KEY");
	unsetenv("I2M_CONFIG");
	test_models();
	test_model_settings();
	test_config();
	return tap_done();
}
