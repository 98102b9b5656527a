/*
 * price.c: what one file costs at FAL, from the model's row.
 *
 * The row's price_usd is the price at default parameters; each price
 * rule whose parameter resolves (given value, else the row's default) to
 * the rule's value adds add_usd and then multiplies by factor, in table
 * order.  The parameters are resolved first (models_params_resolve), so
 * the estimate sees what the daemon will send.  An unknown price stays
 * unknown (-1): it is never turned into 0.
 */
#include <math.h>
#include <stdio.h>

#include "spool.h"

/* Prices are kept to a hundredth of a cent. */
static double
round_usd(double usd)
{
	return round(usd * 10000.0) / 10000.0;
}

double
models_price(const struct model_info *m, json_t *params)
{
	json_t *p;
	double usd;
	size_t i;

	if (m == NULL || m->price_usd < 0)
		return -1;
	p = params != NULL ? json_deep_copy(params) : json_object();
	if (p == NULL || models_params_resolve(m, p) == -1) {
		json_decref(p);
		return -1;
	}
	usd = m->price_usd;
	for (i = 0; i < m->nprice_rules; i++) {
		const struct model_price_rule *r = &m->price_rules[i];
		json_t *v = models_param_value(m, p, r->param);
		json_t *w = json_loads(r->value, JSON_DECODE_ANY, NULL);

		if (v != NULL && w != NULL && json_equal(v, w)) {
			usd += r->add_usd;
			if (r->factor != 0)
				usd *= r->factor;
		}
		json_decref(v);
		json_decref(w);
	}
	json_decref(p);
	return usd < 0 ? 0 : round_usd(usd);
}

json_t *
models_price_rules_json(const struct model_info *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < m->nprice_rules; i++) {
		const struct model_price_rule *r = &m->price_rules[i];
		json_t *v = json_loads(r->value, JSON_DECODE_ANY, NULL);

		if (v == NULL ||
		    json_array_append_new(a,
		        json_pack("{s:s, s:o, s:f, s:f}", "param", r->param,
		            "value", v, "add_usd", r->add_usd, "factor",
		            r->factor != 0 ? r->factor : 1.0)) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
