/*
 * test_price.c: unit tests of the model table's money side: every FAL row
 * is complete, models_price and its rules, parameter resolution (defaults
 * that are always sent, texture off forcing PBR off), the spend file
 * (counted once per request id, across midnight too) and the daily budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* models_price of a model with params given as JSON text. */
static double
price(const char *id, const char *params)
{
	json_t *p = json_loads(params, 0, NULL);
	double usd = models_price(models_find(id), p);

	json_decref(p);
	return usd;
}

static void
test_rows(void)
{
	size_t i, k, bad = 0;

	for (i = 0; i < models_count(); i++) {
		const struct model_info *m = models_at(i);

		if (strcmp(m->provider, "fal") != 0)
			continue;
		if (m->fal_id == NULL || m->image_field == NULL ||
		    m->outputs[0] == NULL)
			bad++;
		for (k = 0; k < m->nprice_rules; k++)
			if (models_param(m, m->price_rules[k].param) == NULL)
				bad++;
		for (k = 0; k < m->nforces; k++)
			if (models_param(m, m->forces[k].if_param) == NULL ||
			    models_param(m, m->forces[k].set_param) == NULL)
				bad++;
	}
	TAP_OK(bad == 0,
	    "every FAL row has an id, image field, outputs; rules name its own parameters");
	TAP_OK(models_find("rodin-2.5")->image_array == 1 &&
	        strcmp(models_find("rodin-2.5")->image_field, "image_urls") ==
	            0,
	    "rodin-2.5 takes image_urls as an array");
	TAP_OK(
	    strcmp(models_find("tripo3d-v2.5")->outputs[0], "pbr_model") == 0 &&
	        strcmp(models_find("trellis-2")->outputs[0], "model_glb") ==
	            0 &&
	        strcmp(models_find("meshy-6")->outputs[0], "model_glb") == 0,
	    "output fields in order of preference");
}

static void
test_price(void)
{
	TAP_OK(near(price("tripo3d-v2.5", "{}"), 0.30), "tripo default $0.30");
	TAP_OK(near(price("tripo3d-v2.5", "{\"texture\":\"no\"}"), 0.20),
	    "tripo no texture $0.20");
	TAP_OK(near(price("tripo3d-v2.5", "{\"texture\":\"HD\"}"), 0.40),
	    "tripo HD $0.40");
	TAP_OK(near(price("tripo3d-v2.5", "{\"texture\":\"standard\"}"), 0.30),
	    "tripo standard $0.30");
	TAP_OK(near(price("hunyuan3d-v2", "{}"), 0.16), "hunyuan v2 $0.16");
	TAP_OK(near(price("hunyuan3d-v2", "{\"textured_mesh\":true}"), 0.48),
	    "hunyuan v2 textured x3");
	TAP_OK(near(price("hunyuan3d-v3", "{\"enable_pbr\":true}"), 0.525),
	    "hunyuan v3 PBR +$0.15");
	/* Geometry forces PBR off: no surcharge for a PBR that is not made. */
	TAP_OK(near(price("hunyuan3d-v3",
	                "{\"enable_pbr\":true,\"generate_type\":\"Geometry\"}"),
	           0.375),
	    "hunyuan v3 geometry: PBR forced off, not charged");
	TAP_OK(near(price("rodin-2.5", "{}"), 0.40), "rodin High $0.40");
	TAP_OK(near(price("rodin-2.5", "{\"tier\":\"Gen-2.5-Extreme-High\"}"),
	           0.80),
	    "rodin Extreme-High $0.80");
	TAP_OK(price("trellis-2", "{}") < 0 && price("pixal3d", "{}") < 0 &&
	        price("meshy-6", "{}") < 0 && price("tripo3d-h3.1", "{}") < 0,
	    "unknown prices stay unknown (-1)");
	TAP_OK(near(price("local", "{}"), 0), "the offline model is free");
	TAP_OK(models_price(NULL, NULL) < 0, "no model, no price");
}

static void
test_resolve(void)
{
	json_t *p = json_loads("{\"texture\":\"no\",\"pbr\":true}", 0, NULL);
	json_t *q = json_object();

	TAP_OK(models_params_resolve(models_find("tripo3d-v2.5"), p) == 0 &&
	        json_is_false(json_object_get(p, "pbr")),
	    "tripo texture=no forces pbr=false");
	TAP_OK(models_params_resolve(models_find("tripo3d-v2.5"), q) == 0 &&
	        json_is_false(json_object_get(q, "pbr")) &&
	        json_object_get(q, "texture") == NULL,
	    "tripo pbr always sent with the row's default; others not");
	json_decref(p);
	json_decref(q);
	p = json_loads("{\"texture\":false}", 0, NULL);
	TAP_OK(models_params_resolve(models_find("tripo3d-h3.1"), p) == 0 &&
	        json_is_false(json_object_get(p, "pbr")),
	    "tripo h3.1 texture=false forces pbr=false");
	json_decref(p);
	q = json_object();
	TAP_OK(models_params_resolve(models_find("rodin-2.5"), q) == 0 &&
	        strcmp(json_string_value(json_object_get(q, "tier")),
	            "Gen-2.5-High") == 0 &&
	        strcmp(json_string_value(
	                   json_object_get(q, "geometry_file_format")),
	            "glb") == 0,
	    "rodin tier and GLB always sent");
	json_decref(q);
}

static void
test_available(void)
{
	struct config c;
	json_t *a, *m;
	size_t i;
	int seen = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.fal_key, sizeof(c.fal_key), "k");
	a = models_available_json(&c);
	json_array_foreach(a, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		json_t *pr = json_object_get(m, "price_usd");

		if (strcmp(id, "tripo3d-v2.5") == 0 && json_is_real(pr) &&
		    near(json_real_value(pr), 0.30) &&
		    json_array_size(json_object_get(m, "price_rules")) == 2)
			seen |= 1;
		if (strcmp(id, "pixal3d") == 0 && json_is_null(pr))
			seen |= 2;
	}
	TAP_OK(json_array_size(a) == models_count(), "with a key every model");
	TAP_OK(seen == 3,
	    "models/available: price_usd and rules, null when unknown");
	json_decref(a);
}

static void
test_spend(struct spool *sp)
{
	struct config c;
	json_t *d;
	double left;
	char err[512];

	TAP_OK(spool_spend_add(sp, "2020-02-29", 0.30, "r1", "a.0") == 1,
	    "a request is counted");
	TAP_OK(spool_spend_add(sp, "2020-02-29", 0.30, "r1", "a.0") == 0,
	    "the same request id is not counted twice");
	TAP_OK(spool_spend_add(sp, "2020-03-01", 0.30, "r1", "a.0") == 0,
	    "nor after midnight");
	TAP_OK(spool_spend_add(sp, "2020-02-29", -1, "r2", "a.1") == 1,
	    "an unknown price is counted as unknown");
	TAP_OK(spool_spend_add(sp, "2020-02-30", 0.1, "r3", "a.2") == -1 &&
	        errno == EINVAL,
	    "a bad day is refused");
	d = spool_spend_get(sp, "2020-02-29");
	TAP_OK(d != NULL &&
	        near(json_number_value(json_object_get(d, "total_usd")), 0.3) &&
	        json_integer_value(json_object_get(d, "requests")) == 2 &&
	        json_integer_value(json_object_get(d, "unknown_price")) == 1,
	    "the day's file: total, requests, unknown");
	json_decref(d);
	memset(&c, 0, sizeof(c));
	TAP_OK(spool_budget_check(sp, &c, 1000, &left, err, sizeof(err)) == 0,
	    "no cap: anything goes");
	c.fal_budget_usd_per_day = 1.0;
	spool_spend_add(sp, NULL, 0.70, "today-1", "b.0");
	TAP_OK(spool_budget_check(sp, &c, 0.30, &left, err, sizeof(err)) == 0 &&
	        near(left, 0.30),
	    "an estimate that fits what is left passes");
	TAP_OK(
	    spool_budget_check(sp, &c, 0.31, &left, err, sizeof(err)) == -1 &&
	        errno == EDQUOT && strstr(err, "$0.30") != NULL,
	    "over what is left: refused naming it (%s)", err);
	TAP_OK(spool_budget_check(sp, &c, -1, &left, err, sizeof(err)) == -1 &&
	        errno == EDQUOT && strstr(err, "unknown") != NULL,
	    "an unknown price cannot be held to a budget");
}

/* n one-file-header PNGs as a batch of model (with parameters). */
static int
submit(struct spool *sp, const struct config *c, const char *model,
    const char *texture, int n, char *id)
{
	static const unsigned char png[] = {
	    0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0};
	struct spool_submit s;
	int i, rc = -1;

	spool_submit_init(&s, sp, c);
	if (spool_submit_model(&s, model) == -1 ||
	    (texture != NULL &&
	        spool_submit_param(&s, "texture", texture) == -1))
		goto out;
	for (i = 0; i < n; i++)
		if (spool_submit_file_begin(&s, "p.png") == -1 ||
		    spool_submit_file_write(&s, png, sizeof(png)) == -1 ||
		    spool_submit_file_end(&s) == -1)
			goto out;
	if (spool_submit_commit(&s) == -1)
		goto out;
	memcpy(id, s.id, SPOOL_ID_LEN + 1);
	rc = 0;
out:
	if (rc == -1)
		spool_submit_abort(&s);
	else
		spool_submit_free(&s);
	return rc;
}

/*
 * What is held of the budget: every FAL file with a marker, waiting or
 * claimed, and no result yet; nothing for the offline model.
 */
static void
test_held(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], lid[SPOOL_ID_LEN + 1], m[SPOOL_MARKER_MAX];
	char err[256];
	struct config c;
	double usd, left;
	json_t *rec;
	int files;

	setenv("FAL_KEY", "held-test-key", 1);
	unsetenv("I2M_CONFIG");
	TAP_OK(config_load(&c, err, sizeof(err)) == 0, "config: %s", err);
	c.disk_floor_mb = 0;
	c.fal_budget_usd_per_day = 1.0;
	TAP_OK(submit(sp, &c, "tripo3d-v2.5", NULL, 3, id) == 0 &&
	        submit(sp, &c, "local", NULL, 2, lid) == 0,
	    "held: a FAL batch of 3 and an offline one of 2 queued");
	TAP_OK(spool_budget_held(sp, &usd, &files) == 0 && near(usd, 0.90) &&
	        files == 3,
	    "held: 3 x $0.30 waiting, the offline files hold nothing");
	spool_marker_name(m, sizeof(m), id, 0);
	TAP_OK(spool_queue_owner_add(sp, "d1") == 0 &&
	        spool_queue_claim(sp, "d1", m) == 0 &&
	        spool_budget_held(sp, &usd, &files) == 0 && near(usd, 0.90) &&
	        files == 3,
	    "held: a claimed file still holds its price");
	rec = json_pack("{s:s, s:{s:s}}", "request_id", "r", "result", "url",
	    "https://cdn.example/m.glb");
	TAP_OK(spool_remote_put(sp, id, 0, rec) == 0 &&
	        spool_budget_held(sp, &usd, &files) == 0 && near(usd, 0.60) &&
	        files == 2,
	    "held: a file whose result is in (paid) no longer holds");
	json_decref(rec);
	TAP_OK(spool_queue_withdraw(sp, id, 1) == 0 &&
	        spool_budget_held(sp, &usd, &files) == 0 && near(usd, 0.30) &&
	        files == 1,
	    "held: a withdrawn (cancelled) file gives its price back");
	TAP_OK(
	    spool_budget_check(sp, &c, 0.80, &left, err, sizeof(err)) == -1 &&
	        strstr(err, "$0.30 is held by 1 file ") != NULL,
	    "held: the budget counts it and says so (%s)", err);
	unsetenv("FAL_KEY");
}

int
main(void)
{
	struct spool sp;
	char root[64];

	snprintf(root, sizeof(root), "/tmp/test_price.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	test_rows();
	test_price();
	test_resolve();
	test_available();
	TAP_OK(spool_open(&sp, root, 1) == 0, "spool opened");
	test_spend(&sp);
	test_held(&sp);
	spool_close(&sp);
	spool_rmtree(AT_FDCWD, root);
	return tap_done();
}
