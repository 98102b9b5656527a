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

int
main(void)
{
	unsetenv("FAL_KEY");
	unsetenv("I2M_CONFIG");
	test_models();
	test_config();
	return tap_done();
}
