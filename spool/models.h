/*
 * models.h: the one table of models (spool/models.c) and what is derived
 * from a row: parameter parsing and resolution (params.c) and prices
 * (price.c).  A new model, or a new parameter of one, is a row here and
 * nothing else; the upload handler, `i2m submit`, the daemon's backends
 * and the pages (through models/available) all read it.
 *
 * Invariant: the table is constant data; nothing here touches the spool,
 * so the table's functions need only a config and jansson.
 * Included by spool.h; prototypes are grouped by the file that defines
 * them.
 */
#ifndef SPOOL_MODELS_H
#define SPOOL_MODELS_H

#include <stddef.h>

#include <jansson.h>

struct config;

/* models.c ------------------------------------------------------------- */

enum param_type { PT_INT, PT_FLOAT, PT_BOOL, PT_ENUM, PT_INT_ENUM };

/* flags of a model_param */
#define PF_SEND 1 /* always sent (the row's default when not given) */

struct model_param {
	const char *name;
	enum param_type type;
	double min, max; /* PT_INT / PT_FLOAT range, inclusive */
	const char *def; /* default as JSON text, NULL = provider's */
	const char *choices; /* PT_ENUM / PT_INT_ENUM: "a|b|c" */
	const char *description;
	unsigned flags; /* PF_* */
};

/*
 * A setting for people: parameter param under a person's label; choices,
 * when not NULL, names its choices ("a|b", true|false for a boolean).
 */
struct model_setting {
	const char *param, *label, *choices;
};

/*
 * A rule between parameters, applied when a submission's parameters are
 * resolved: when if_param resolves to if_value (JSON text), set_param is
 * set to set_value (e.g. texture "no" forces pbr false, so the price the
 * user saw is the price paid).
 */
struct model_force {
	const char *if_param, *if_value;
	const char *set_param, *set_value;
};

/*
 * How one parameter value changes a model's price: when params[param]
 * equals value (JSON text, e.g. "true" or "\"HD\""), add_usd is added to
 * the price and, when factor is not 0, the price is multiplied by it.
 */
struct model_price_rule {
	const char *param;
	const char *value;
	double add_usd;
	double factor;
};

#define MODEL_MAX_OUTPUTS 4

struct model_info {
	const char *id; /* our id, e.g. "tripo3d-v2.5" */
	const char *name;
	const char *description;
	const char *good_at; /* one line for a person choosing a model */
	const char *provider; /* "fal" or "local" */
	const char *fal_id; /* FAL model id, NULL for local */
	const char *image_field; /* FAL input field for the image URL */
	int image_array; /* image_field takes an array of URLs (Rodin) */
	/* FAL output fields holding the mesh, best first; NULL-terminated */
	const char *outputs[MODEL_MAX_OUTPUTS + 1];
	int typical_s; /* typical run time, for progress estimates */
	double price_usd; /* per file at default parameters; < 0 = unknown */
	const struct model_price_rule *price_rules;
	size_t nprice_rules;
	const struct model_force *forces;
	size_t nforces;
	const struct model_param *params;
	size_t nparams;
	const struct model_setting *settings; /* shown first, in this order */
	size_t nsettings;
};

/* The one table of models; NULL when unknown. */
const struct model_info *models_find(const char *id);
/* Models usable now: local always, FAL ones only with a key. */
size_t models_count(void);
const struct model_info *models_at(size_t i);
/* The default model: DEFAULT_MODEL, else tripo3d-v2.5 with a key, else local. */
const char *models_default(const struct config *c);
/* 1 when the model can run with this config. */
int models_usable(const struct model_info *m, const struct config *c);
/* The parameter description, NULL when the model has no such parameter. */
const struct model_param *
models_param(const struct model_info *m, const char *name);

/* params.c ------------------------------------------------------------- */

/*
 * Check and convert one parameter given as text (from a form field).  On
 * success stores the typed JSON value in *out (new reference).  On error
 * returns -1 and writes a sentence naming the field into err.
 */
int models_param_parse(const struct model_info *m, const char *name,
    const char *text, json_t **out, char *err, size_t errlen);
/*
 * Resolve a submission's parameters in place (params: an object of
 * parsed values): every PF_SEND parameter gets the row's default when not
 * given, then the row's forcing rules apply.  0, or -1 with ENOMEM.
 */
int models_params_resolve(const struct model_info *m, json_t *params);
/* params[name], else the row's default; new reference or NULL. */
json_t *models_param_value(
    const struct model_info *m, json_t *params, const char *name);
/* models/available "models" array for this config; new reference. */
json_t *models_available_json(const struct config *c);

/* price.c -------------------------------------------------------------- */

/*
 * Price in USD of one file with these parameters (raw or resolved): the
 * row's price at default parameters changed by its price rules, in table
 * order.  -1 when the price is unknown.
 */
double models_price(const struct model_info *m, json_t *params);
/* The row's price rules as a JSON array; new reference. */
json_t *models_price_rules_json(const struct model_info *m);

#endif
