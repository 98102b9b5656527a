/*
 * params.c: a model's parameters as the outside sees them.  Form fields
 * are checked and typed against the row (models_param_parse) before
 * anything is spent; a submission's parameters are resolved once
 * (models_params_resolve: defaults of PF_SEND parameters, then the row's
 * forcing rules) and stored resolved in batch.json, so what the daemon
 * sends is exactly what the estimate priced; models/available is made
 * from the rows.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spool.h"

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
			    "%s must be a number, not \"%.32s\".", name, text);
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
			    "%s must be true or false, not \"%.32s\".", name,
			    text);
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

/* "a|b|c" as a JSON array, of integers when ints (PT_INT_ENUM). */
static json_t *
choices_json(const char *s, int ints)
{
	json_t *a = json_array();

	while (a != NULL && *s != '\0') {
		const char *e = strchr(s, '|');
		size_t l = e != NULL ? (size_t)(e - s) : strlen(s);
		char w[128];

		snprintf(w, sizeof(w), "%.*s", (int)l, s);
		json_array_append_new(a,
		    ints ? json_integer(strtoll(w, NULL, 10)) : json_string(w));
		s += l + (e != NULL);
	}
	return a;
}

static json_t *
param_json(const struct model_param *p)
{
	json_t *j, *def = NULL;

	if (p->def != NULL)
		def = json_loads(p->def, JSON_DECODE_ANY, NULL);
	/* clang-format off */
	j = json_pack("{s:s, s:s, s:o, s:s}",
	    "name", p->name,
	    "type", type_names[p->type],
	    "default", def != NULL ? def : json_null(),
	    "description", p->description);
	/* clang-format on */
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
	if (p->choices != NULL)
		json_object_set_new(j, "allowed_values",
		    choices_json(p->choices, p->type == PT_INT_ENUM));
	return j;
}

json_t *
models_param_value(const struct model_info *m, json_t *params, const char *name)
{
	const struct model_param *p = models_param(m, name);
	json_t *v = json_object_get(params, name);

	if (v != NULL)
		return json_incref(v);
	if (p == NULL || p->def == NULL)
		return NULL;
	return json_loads(p->def, JSON_DECODE_ANY, NULL);
}

/* 1 when params[name] resolves to the JSON text want. */
static int
resolves_to(const struct model_info *m, json_t *params, const char *name,
    const char *want)
{
	json_t *v = models_param_value(m, params, name);
	json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
	int eq = v != NULL && w != NULL && json_equal(v, w);

	json_decref(v);
	json_decref(w);
	return eq;
}

int
models_params_resolve(const struct model_info *m, json_t *params)
{
	size_t i;

	for (i = 0; i < m->nparams; i++) {
		const struct model_param *p = &m->params[i];
		json_t *v;

		if (!(p->flags & PF_SEND) || p->def == NULL ||
		    json_object_get(params, p->name) != NULL)
			continue;
		v = json_loads(p->def, JSON_DECODE_ANY, NULL);
		if (v == NULL || json_object_set_new(params, p->name, v) == -1)
			goto nomem;
	}
	for (i = 0; i < m->nforces; i++) {
		const struct model_force *f = &m->forces[i];
		json_t *v;

		if (!resolves_to(m, params, f->if_param, f->if_value))
			continue;
		v = json_loads(f->set_value, JSON_DECODE_ANY, NULL);
		if (v == NULL ||
		    json_object_set_new(params, f->set_param, v) == -1)
			goto nomem;
	}
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

/* The row's forcing rules, for pages that price a choice themselves. */
static json_t *
forces_json(const struct model_info *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < m->nforces; i++) {
		const struct model_force *f = &m->forces[i];

		if (json_array_append_new(a,
		        json_pack("{s:s, s:o, s:s, s:o}", "if_param",
		            f->if_param, "if_value",
		            json_loads(f->if_value, JSON_DECODE_ANY, NULL),
		            "set_param", f->set_param, "set_value",
		            json_loads(f->set_value, JSON_DECODE_ANY, NULL))) ==
		    -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The row's settings for people: [{param, label, choice_labels?}]. */
static json_t *
settings_json(const struct model_info *m)
{
	json_t *a = json_array(), *j;
	size_t i;

	for (i = 0; a != NULL && i < m->nsettings; i++) {
		const struct model_setting *st = &m->settings[i];

		/* clang-format off */
		j = json_pack("{s:s, s:s}",
		    "param", st->param,
		    "label", st->label);
		/* clang-format on */
		if (j != NULL && st->choices != NULL)
			json_object_set_new(
			    j, "choice_labels", choices_json(st->choices, 0));
		if (j == NULL || json_array_append_new(a, j) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* One model of models/available; NULL when out of memory. */
static json_t *
model_json(const struct model_info *m, const char *def)
{
	json_t *params = json_array(), *j;
	double price = models_price(m, NULL);
	size_t k;

	for (k = 0; params != NULL && k < m->nparams; k++)
		json_array_append_new(params, param_json(&m->params[k]));
	/* clang-format off */
	j = json_pack("{s:s, s:s, s:s, s:s?, s:i, s:s, s:[s], s:b, s:o, s:o, " "s:s?, s:o, s:o, s:o}",
	    "id", m->id,
	    "name", m->name,
	    "description", m->description,
	    "good_at", m->good_at,
	    "typical_s", m->typical_s,
	    "provider", m->provider,
	    "output_formats", "glb",
	    "default", strcmp(m->id, def) == 0,
	    "parameters", params,
	    "settings", settings_json(m),
	    "fal_model_id", m->fal_id,
	    "price_usd", price < 0 ? json_null() : json_real(price),
	    "price_rules", models_price_rules_json(m),
	    "forced", forces_json(m));
	/* clang-format on */
	return j;
}

json_t *
models_available_json(const struct config *c)
{
	const char *def = models_default(c);
	json_t *arr = json_array(), *j;
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < models_count(); i++) {
		const struct model_info *m = models_at(i);

		if (!models_usable(m, c))
			continue;
		j = model_json(m, def);
		if (j == NULL || json_array_append_new(arr, j) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
