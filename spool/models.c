/*
 * models.c: the one table of models and their parameters.
 *
 * Adding a model is a row here: the upload handler validates form fields
 * against it (so a bad value never reaches a paid provider), the daemon
 * picks the backend by "provider" and maps fields by name, and
 * models/available is generated from it.  Ranges and defaults follow
 * shared/docs/fal-protocol.md §4.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "img2glb.h" /* the local model's limits (constants only) */
#include "spool.h"

#define SEED_MAX 2147483647.0

/* The offline model's ranges and defaults are its own (img2glb.h, where
 * i2g_convert enforces them); this row only names and describes them. */
static const struct model_param local_params[] = {
    {"mode", PT_ENUM, 0, 0, "\"" I2G_MODE_DEF "\"", I2G_MODES,
        "Shape: auto picks inflate when the subject can be cut out, "
        "else relief"},
    {"resolution", PT_INT, I2G_RES_MIN, I2G_RES_MAX, I2G_TEXT(I2G_RES_DEF),
        NULL, "Grid cells along the long side; more is finer and larger"},
    {"thickness", PT_FLOAT, I2G_THICK_MIN, I2G_THICK_MAX,
        I2G_TEXT(I2G_THICK_DEF), NULL,
        "Thickness as a fraction of the model's width"},
};

static const struct model_param tripo_params[] = {
    {"face_limit", PT_INT, 500, 500000, NULL, NULL,
        "Target face count; adaptive when unset"},
    {"texture", PT_ENUM, 0, 0, "\"standard\"", "no|standard|HD",
        "Texture quality"},
    {"pbr", PT_BOOL, 0, 0, "false", NULL,
        "Physically based materials (forces a texture)"},
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Geometry seed"},
    {"texture_seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Texture seed"},
    {"auto_size", PT_BOOL, 0, 0, "false", NULL,
        "Scale the model to real-world metres"},
    {"texture_alignment", PT_ENUM, 0, 0, "\"original_image\"",
        "original_image|geometry", "What the texture follows"},
    {"orientation", PT_ENUM, 0, 0, "\"default\"", "default|align_image",
        "Model orientation"},
};

static const struct model_param trellis_params[] = {
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Random seed"},
    {"ss_guidance_strength", PT_FLOAT, 0, 10, "7.5", NULL,
        "Sparse structure guidance strength"},
    {"ss_sampling_steps", PT_INT, 1, 50, "12", NULL,
        "Sparse structure sampling steps"},
    {"slat_guidance_strength", PT_FLOAT, 0, 10, "3", NULL,
        "Structured latent guidance strength"},
    {"slat_sampling_steps", PT_INT, 1, 50, "12", NULL,
        "Structured latent sampling steps"},
    {"mesh_simplify", PT_FLOAT, 0.9, 0.98, "0.95", NULL,
        "Mesh simplification factor"},
    {"texture_size", PT_INT_ENUM, 0, 0, "1024", "512|1024|2048",
        "Texture size in pixels"},
};

static const struct model_param hunyuan_params[] = {
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Random seed"},
    {"num_inference_steps", PT_INT, 1, 50, "50", NULL, "Inference steps"},
    {"guidance_scale", PT_FLOAT, 0, 20, "7.5", NULL, "Guidance scale"},
    {"octree_resolution", PT_INT, 1, 1024, "256", NULL, "Octree resolution"},
    {"textured_mesh", PT_BOOL, 0, 0, "false", NULL,
        "Textured mesh (costs three times a white mesh)"},
};

static const struct model_param triposr_params[] = {
    {"output_format", PT_ENUM, 0, 0, "\"glb\"", "glb",
        "Output format (GLB only here)"},
    {"do_remove_background", PT_BOOL, 0, 0, "true", NULL,
        "Remove the background first"},
    {"foreground_ratio", PT_FLOAT, 0.5, 1, "0.9", NULL,
        "Share of the image the subject fills"},
    {"mc_resolution", PT_INT, 32, 1024, "256", NULL,
        "Marching cubes resolution"},
};

#define NPARAMS(a) .params = a, .nparams = sizeof(a) / sizeof(a[0])

static const struct model_info models[] = {
    {.id = "local",
        .name = "Built-in offline model",
        .description = "Runs on this server without a provider: cuts the "
                       "subject out and inflates it, or makes a relief, "
                       "textured with the photo",
        .provider = "local",
        .typical_s = 1,
        .price_usd = 0,
        NPARAMS(local_params)},
    {.id = "tripo3d-v2.5",
        .name = "Tripo3D v2.5",
        .description = "High-quality textured meshes from one image (FAL)",
        .provider = "fal",
        .fal_id = "tripo3d/tripo/v2.5/image-to-3d",
        .image_field = "image_url",
        .outputs = {"pbr_model", "model_mesh", "base_model"},
        .typical_s = 90,
        .price_usd = 0.30,
        NPARAMS(tripo_params)},
    {.id = "trellis",
        .name = "TRELLIS",
        .description = "Structured 3D latents, fast and detailed (FAL)",
        .provider = "fal",
        .fal_id = "fal-ai/trellis",
        .image_field = "image_url",
        .outputs = {"model_mesh"},
        .typical_s = 30,
        .price_usd = 0.02,
        NPARAMS(trellis_params)},
    {.id = "hunyuan3d-v2",
        .name = "Hunyuan3D v2",
        .description = "Tencent's Hunyuan3D 2.0 shape and texture (FAL)",
        .provider = "fal",
        .fal_id = "fal-ai/hunyuan3d/v2",
        .image_field = "input_image_url",
        .outputs = {"model_mesh"},
        .typical_s = 60,
        .price_usd = 0.16,
        NPARAMS(hunyuan_params)},
    {.id = "triposr",
        .name = "TripoSR",
        .description = "Very fast single-image reconstruction (FAL)",
        .provider = "fal",
        .fal_id = "fal-ai/triposr",
        .image_field = "image_url",
        .outputs = {"model_mesh"},
        .typical_s = 10,
        .price_usd = 0.07,
        NPARAMS(triposr_params)},
};

const struct model_info *
models_find(const char *id)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(models[i].id, id) == 0)
			return &models[i];
	return NULL;
}

size_t
models_count(void)
{
	return sizeof(models) / sizeof(models[0]);
}

const struct model_info *
models_at(size_t i)
{
	return i < models_count() ? &models[i] : NULL;
}

int
models_usable(const struct model_info *m, const struct config *c)
{
	if (strcmp(m->provider, "local") == 0)
		return 1;
	return c->fal_key[0] != '\0';
}

const char *
models_default(const struct config *c)
{
	if (c->default_model[0] != '\0')
		return c->default_model;
	return c->fal_key[0] != '\0' ? "tripo3d-v2.5" : "local";
}

const struct model_param *
models_param(const struct model_info *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return &m->params[i];
	return NULL;
}

/* 1 when word is one of the '|'-separated choices. */
static int
in_choices(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	const char *p = choices;

	while (*p != '\0') {
		const char *e = strchr(p, '|');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);

		if (l == wl && strncmp(p, word, l) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static void
choices_text(const char *choices, char *out, size_t len)
{
	size_t o = 0;
	const char *p;

	for (p = choices; *p != '\0' && o + 3 < len; p++) {
		if (*p == '|') {
			out[o++] = ',';
			out[o++] = ' ';
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
}

int
models_param_parse(const struct model_info *m, const char *name,
    const char *text, json_t **out, char *err, size_t errlen)
{
	const struct model_param *p = models_param(m, name);
	char *end, list[256];
	long long iv;
	double dv;

	*out = NULL;
	if (p == NULL) {
		snprintf(err, errlen,
		    "The model %s has no parameter \"%.64s\".", m->id, name);
		return -1;
	}
	switch (p->type) {
	case PT_INT:
	case PT_INT_ENUM:
		errno = 0;
		iv = strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0')
			goto notint;
		if (p->type == PT_INT_ENUM) {
			if (!in_choices(p->choices, text))
				goto choice;
		} else if ((double)iv < p->min || (double)iv > p->max)
			goto range;
		*out = json_integer(iv);
		break;
	case PT_FLOAT:
		errno = 0;
		dv = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0' ||
		    !isfinite(dv)) {
			snprintf(err, errlen,
			    "%s must be a number, not "
			    "\"%.32s\".",
			    name, text);
			return -1;
		}
		if (dv < p->min || dv > p->max)
			goto range;
		*out = json_real(dv);
		break;
	case PT_BOOL:
		if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0 ||
		    strcasecmp(text, "on") == 0 || strcasecmp(text, "yes") == 0)
			*out = json_true();
		else if (strcasecmp(text, "false") == 0 ||
		    strcmp(text, "0") == 0 || strcasecmp(text, "off") == 0 ||
		    strcasecmp(text, "no") == 0)
			*out = json_false();
		else {
			snprintf(err, errlen,
			    "%s must be true or false, not "
			    "\"%.32s\".",
			    name, text);
			return -1;
		}
		break;
	case PT_ENUM:
		if (!in_choices(p->choices, text))
			goto choice;
		*out = json_string(text);
		break;
	}
	if (*out == NULL) {
		snprintf(err, errlen, "Out of memory while reading %s.", name);
		return -1;
	}
	return 0;
notint:
	snprintf(err, errlen, "%s must be a whole number, not \"%.32s\".", name,
	    text);
	return -1;
range:
	snprintf(err, errlen, "%s must be between %g and %g, not %.32s.", name,
	    p->min, p->max, text);
	return -1;
choice:
	choices_text(p->choices, list, sizeof(list));
	snprintf(err, errlen, "%s must be one of %s, not \"%.32s\".", name,
	    list, text);
	return -1;
}

static const char *const type_names[] = {
    "integer",
    "number",
    "boolean",
    "string",
    "integer",
};

static json_t *
param_json(const struct model_param *p)
{
	json_t *j, *def = NULL;

	if (p->def != NULL)
		def = json_loads(p->def, JSON_DECODE_ANY, NULL);
	j = json_pack("{s:s, s:s, s:o, s:s}", "name", p->name, "type",
	    type_names[p->type], "default", def != NULL ? def : json_null(),
	    "description", p->description);
	if (j == NULL)
		return NULL;
	if (p->type == PT_INT || p->type == PT_FLOAT) {
		json_object_set_new(j, "minimum",
		    p->type == PT_INT ? json_integer((json_int_t)p->min)
		                      : json_real(p->min));
		json_object_set_new(j, "maximum",
		    p->type == PT_INT ? json_integer((json_int_t)p->max)
		                      : json_real(p->max));
	}
	if (p->choices != NULL) {
		json_t *a = json_array();
		const char *s = p->choices;

		while (a != NULL && *s != '\0') {
			const char *e = strchr(s, '|');
			size_t l = e != NULL ? (size_t)(e - s) : strlen(s);
			char w[64];

			snprintf(w, sizeof(w), "%.*s", (int)l, s);
			json_array_append_new(a,
			    p->type == PT_INT_ENUM
			        ? json_integer(strtoll(w, NULL, 10))
			        : json_string(w));
			s += l + (e != NULL);
		}
		json_object_set_new(j, "allowed_values", a);
	}
	return j;
}

json_t *
models_available_json(const struct config *c)
{
	const char *def = models_default(c);
	json_t *arr = json_array();
	size_t i, k;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < models_count(); i++) {
		const struct model_info *m = &models[i];
		json_t *params = json_array(), *j;

		if (!models_usable(m, c)) {
			json_decref(params);
			continue;
		}
		for (k = 0; params != NULL && k < m->nparams; k++)
			json_array_append_new(
			    params, param_json(&m->params[k]));
		j = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:b, s:o, s:s?}",
		    "id", m->id, "name", m->name, "description", m->description,
		    "provider", m->provider, "output_formats", "glb", "default",
		    strcmp(m->id, def) == 0, "parameters", params,
		    "fal_model_id", m->fal_id);
		if (j == NULL || json_array_append_new(arr, j) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
