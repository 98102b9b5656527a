/*
 * test_fal.c: the FAL backend's pure parts (daemon/fal_http.c): which
 * answers are retried, the backoff and Retry-After, FAL's error texts,
 * progress from logs, owner/alias, the model input and redaction.  The
 * HTTP side is tested end to end against the double (tests/bats/fal_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fal_queue.h"
#include "sniff.h"
#include "tap.h"

static void
test_classify(void)
{
	TAP_OK(fal_classify(200, 0, 0, 0) == FC_OK, "200 ok");
	TAP_OK(fal_classify(202, 0, 0, 0) == FC_OK, "202 ok");
	TAP_OK(fal_classify(0, 1, 0, 0) == FC_RETRY, "transport error retried");
	TAP_OK(fal_classify(429, 0, 0, 0) == FC_RETRY, "429 retried");
	TAP_OK(fal_classify(408, 0, 0, 0) == FC_RETRY, "408 retried");
	TAP_OK(fal_classify(502, 0, 0, 0) == FC_RETRY, "502 retried");
	TAP_OK(fal_classify(503, 0, 0, 0) == FC_RETRY, "503 retried");
	TAP_OK(fal_classify(504, 0, 0, 0) == FC_RETRY, "504 retried");
	TAP_OK(fal_classify(504, 0, 1, 0) == FC_FAIL, "504 user timeout final");
	TAP_OK(fal_classify(401, 0, 0, 0) == FC_AUTH, "401 auth");
	TAP_OK(fal_classify(403, 0, 0, 0) == FC_AUTH, "403 auth");
	TAP_OK(fal_classify(422, 0, 0, 0) == FC_FAIL, "422 final");
	TAP_OK(fal_classify(404, 0, 0, 1) == FC_FAIL, "404 final");
	TAP_OK(fal_classify(500, 0, 0, 0) == FC_FAIL, "500 final on a submit");
	TAP_OK(fal_classify(500, 0, 0, 1) == FC_RETRY, "500 retried on a GET");
}

static void
test_backoff(void)
{
	unsigned int seed = 1;
	long d, prev = 0;
	int i, ok = 1, grows = 1;

	for (i = 0; i < 12; i++) {
		long want = i < 5 ? 1000L << i : 30000; /* 1,2,4,8,16,30 s */

		d = fal_backoff_ms(i, 1000, 30000, -1, &seed);
		if (d < want * 3 / 4 || d > want * 5 / 4)
			ok = 0;
		if (i > 0 && i < 5 && d <= prev)
			grows = 0;
		prev = d;
	}
	TAP_OK(ok, "backoff within jitter bounds and capped");
	TAP_OK(grows, "backoff grows");
	d = fal_backoff_ms(0, 1000, 30000, -1, &seed);
	TAP_OK(d >= 750 && d <= 1250, "first delay 1 s ± 25%% (%ld)", d);
	d = fal_backoff_ms(20, 1000, 30000, -1, &seed);
	TAP_OK(d >= 22500 && d <= 37500, "capped at 30 s ± 25%% (%ld)", d);
	TAP_OK(fal_backoff_ms(0, 1000, 30000, 5000, &seed) == 5000,
	    "Retry-After wins");
	TAP_OK(fal_backoff_ms(0, 1000, 30000, 0, &seed) == 0,
	    "Retry-After: 0 means now");
	TAP_OK(fal_backoff_ms(0, 1000, 30000, 999999, &seed) == 120000,
	    "Retry-After capped at 2 min");
}

static void
test_retry_after(void)
{
	long long now = 1700000000000LL; /* 2023-11-14T22:13:20Z */

	TAP_OK(fal_parse_retry_after("3", now) == 3000, "delta seconds");
	TAP_OK(fal_parse_retry_after(" 0", now) == 0, "zero");
	TAP_OK(fal_parse_retry_after("-1", now) == -1, "negative refused");
	TAP_OK(fal_parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now) ==
	        10000,
	    "HTTP date");
	TAP_OK(fal_parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0,
	    "HTTP date in the past");
	TAP_OK(fal_parse_retry_after("soon", now) == -1, "garbage");
}

static void
err_of(const char *ctype, const char *body, long code, char *out, size_t n)
{
	struct fal_resp rs;

	memset(&rs, 0, sizeof(rs));
	rs.code = code;
	snprintf(rs.ctype, sizeof(rs.ctype), "%s", ctype);
	rs.body = body != NULL ? strdup(body) : NULL;
	rs.len = body != NULL ? strlen(body) : 0;
	fal_error_text(&rs, out, n);
	fal_resp_free(&rs);
}

static void
test_error_text(void)
{
	char t[256];

	err_of("application/json",
	    "{\"detail\":[{\"loc\":[\"body\",\"image_url\"],"
	    "\"msg\":\"Image too large\",\"type\":\"image_too_large\"}]}",
	    422, t, sizeof(t));
	TAP_OK(strcmp(t, "Image too large") == 0, "validation msg (%s)", t);
	err_of("application/json",
	    "{\"detail\":\"Runner disconnected\","
	    "\"error_type\":\"runner_disconnected\"}",
	    503, t, sizeof(t));
	TAP_OK(strcmp(t, "Runner disconnected") == 0, "flat detail");
	err_of("text/html", "<html>nginx</html>", 502, t, sizeof(t));
	TAP_OK(strcmp(t, "HTTP 502") == 0, "HTML body gives the code");
	err_of("application/json", "{\"detail\":\"a\\nb\"}", 400, t, sizeof(t));
	TAP_OK(strcmp(t, "a b") == 0, "one line");
	err_of("application/json", "{\"detail\":", 400, t, sizeof(t));
	TAP_OK(strcmp(t, "HTTP 400") == 0, "truncated JSON");
}

static json_t *
logs_of(const char *msg)
{
	return json_pack("[{s:s}]", "message", msg);
}

static void
test_logs(void)
{
	json_t *l;

	l = logs_of("Sampling:  40%|####      | 5/12");
	TAP_OK(fal_logs_progress(l) == 40, "tqdm percent");
	json_decref(l);
	l = logs_of("step 3/50");
	TAP_OK(fal_logs_progress(l) == 6, "fraction");
	json_decref(l);
	l = logs_of("Loading the model");
	TAP_OK(fal_logs_progress(l) == -1, "nothing said");
	json_decref(l);
	l = json_pack("[{s:s},{s:s}]", "message", "50%", "message", "saving");
	TAP_OK(fal_logs_progress(l) == 50, "the last line that says");
	json_decref(l);
	TAP_OK(fal_logs_progress(json_null()) == -1, "null logs");
	l = logs_of("path a/b and 7/0");
	TAP_OK(fal_logs_progress(l) == -1, "no bogus fractions");
	json_decref(l);
	/* Found by tests/fuzz/fuzz_fal (corpus crash-logs-progress-overflow):
	 * numbers past LONG_MAX saturate, and a * 100 overflowed. */
	l = logs_of(
	    "sg5555555555555555555555555555652/155555555555555555555555");
	TAP_OK(fal_logs_progress(l) == 100, "huge fraction: no overflow");
	json_decref(l);
	l = logs_of("step 9223372036854775806/9223372036854775807");
	TAP_OK(fal_logs_progress(l) == 99 || fal_logs_progress(l) == 100,
	    "fraction near LONG_MAX: no overflow (%d)", fal_logs_progress(l));
	json_decref(l);
}

static void
test_owner_alias(void)
{
	char b[64];

	TAP_OK(fal_owner_alias(
	           "tripo3d/tripo/v2.5/image-to-3d", b, sizeof(b)) == 0 &&
	        strcmp(b, "tripo3d/tripo") == 0,
	    "tripo owner/alias");
	TAP_OK(fal_owner_alias("fal-ai/hunyuan3d/v2", b, sizeof(b)) == 0 &&
	        strcmp(b, "fal-ai/hunyuan3d") == 0,
	    "hunyuan owner/alias");
	TAP_OK(fal_owner_alias("fal-ai/trellis", b, sizeof(b)) == 0 &&
	        strcmp(b, "fal-ai/trellis") == 0,
	    "trellis as is");
	TAP_OK(fal_owner_alias("workflows/me/wf/x", b, sizeof(b)) == 0 &&
	        strcmp(b, "workflows/me/wf") == 0,
	    "workflows keep 3 parts");
	TAP_OK(fal_owner_alias("nope", b, sizeof(b)) == -1, "no slash");
}

static void
test_input(void)
{
	const struct model_info *m;
	json_t *p, *in;
	char *s;

	m = models_find("tripo3d-v2.5");
	p = json_pack("{s:s, s:b, s:I, s:I}", "texture", "HD", "pbr", 1, "seed",
	    (json_int_t)7, "face_limit", (json_int_t)3000);
	in = fal_build_input(m, p, "http://x/i.png");
	s = json_dumps(in, JSON_SORT_KEYS | JSON_COMPACT);
	TAP_OK(s != NULL &&
	        strcmp(s,
	            "{\"face_limit\":3000,\"image_url\":\"http://x/i.png\","
	            "\"pbr\":true,\"seed\":7,\"texture\":\"HD\"}") == 0,
	    "tripo input (%s)", s);
	free(s);
	json_decref(in);
	json_decref(p);

	m = models_find("hunyuan3d-v2");
	p = json_pack("{s:f, s:s}", "guidance_scale", 5.0, "unknown", "x");
	in = fal_build_input(m, p, "u");
	s = json_dumps(in, JSON_SORT_KEYS | JSON_COMPACT);
	TAP_OK(s != NULL &&
	        strcmp(s,
	            "{\"guidance_scale\":5.0,\"input_image_url\":\"u\"}") == 0,
	    "hunyuan input: its field, no face_limit, unknown dropped (%s)", s);
	free(s);
	json_decref(in);
	json_decref(p);

	m = models_find("triposr");
	in = fal_build_input(m, NULL, "u");
	TAP_OK(json_is_string(json_object_get(in, "output_format")) &&
	        strcmp(json_string_value(json_object_get(in, "output_format")),
	            "glb") == 0,
	    "triposr asks for glb");
	json_decref(in);
}

static void
test_outputs(void)
{
	struct model_info glb = {.id = "x",
	    .fal_id = "a/b",
	    .image_field = "image_urls",
	    .image_array = 1,
	    .outputs = {"model_glb"}};
	const struct model_info *tripo = models_find("tripo3d-v2.5");
	const char *field = NULL, *u;
	json_t *res, *in;
	char *s;

	res = json_pack("{s:{s:s}, s:{s:s}}", "model_glb", "url", "g",
	    "model_mesh", "url", "m");
	u = fal_mesh_url(&glb, res, &field);
	TAP_OK(
	    u != NULL && strcmp(u, "g") == 0 && strcmp(field, "model_glb") == 0,
	    "model_glb from its row");
	json_decref(res);
	res = json_pack("{s:{s:s}, s:{s:s}}", "base_model", "url", "b",
	    "pbr_model", "url", "p");
	u = fal_mesh_url(tripo, res, NULL);
	TAP_OK(u != NULL && strcmp(u, "p") == 0,
	    "the row's order: pbr_model first");
	json_decref(res);
	res = json_pack("{s:{s:s}}", "thumbnail", "url", "t");
	TAP_OK(fal_mesh_url(tripo, res, NULL) == NULL, "no output of the row");
	json_decref(res);
	in = fal_build_input(&glb, NULL, "http://x/i.png");
	s = json_dumps(in, JSON_COMPACT);
	TAP_OK(s != NULL &&
	        strcmp(s, "{\"image_urls\":[\"http://x/i.png\"]}") == 0,
	    "an array image field gets [url] (%s)", s);
	free(s);
	json_decref(in);
}

static void
test_model_error(void)
{
	json_t *done = json_pack("{s:s, s:s}", "error", "Unprocessable Entity",
	    "error_type", "validation_error");
	json_t *res = json_pack("{s:[{s:s, s:s}]}", "detail", "msg",
	    "texture_size: value is not a valid enumeration member", "type",
	    "validation_error");
	char err[512];

	fal_model_error(done, res, err, sizeof(err));
	TAP_OK(
	    strstr(err,
	        "The model failed at FAL: texture_size: value is not a valid enumeration member (validation_error).") !=
	        NULL,
	    "the result's detail msg and type (%s)", err);
	fal_model_error(done, NULL, err, sizeof(err));
	TAP_OK(strstr(err, "Unprocessable Entity (validation_error)") != NULL,
	    "else the status' error (%s)", err);
	json_decref(done);
	json_decref(res);
}

static void
test_redact(void)
{
	char s[128];

	snprintf(s, sizeof(s), "key abc123 and abc123.");
	fal_redact(s, "abc123");
	TAP_OK(strcmp(s, "key *** and ***.") == 0, "redacted (%s)", s);
	snprintf(s, sizeof(s), "nothing");
	fal_redact(s, "");
	TAP_OK(strcmp(s, "nothing") == 0, "empty key");
}

static void
test_image_ext(void)
{
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n....";
	static const unsigned char jpg[] = "\xff\xd8\xff\xe0";
	static const unsigned char webp[] = "RIFF....WEBPVP8 ";

	TAP_OK(strcmp(i2g_sniff(png, 12, NULL), "png") == 0, "png");
	TAP_OK(strcmp(i2g_sniff(jpg, 4, NULL), "jpg") == 0, "jpg");
	TAP_OK(strcmp(i2g_sniff(webp, 16, NULL), "webp") == 0, "webp");
	TAP_OK(i2g_sniff("glTF", 4, NULL) == NULL, "not an image");
}

int
main(void)
{
	test_classify();
	test_backoff();
	test_retry_after();
	test_error_text();
	test_logs();
	test_owner_alias();
	test_input();
	test_outputs();
	test_model_error();
	test_redact();
	test_image_ext();
	return tap_done();
}
