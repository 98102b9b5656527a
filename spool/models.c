/*
 * models.c: the one table of models and their parameters.
 *
 * Adding a model is a row here: the upload handler validates form fields
 * against it (so a bad value never reaches a paid provider), the daemon
 * picks the backend by "provider", sends only the fields the row names
 * and takes the mesh from the first of .outputs present, and
 * models/available is generated from it.  Fields, enums and defaults
 * follow the fal-js generated types (fal-ai/fal-js 381105e,
 * libs/client/src/types/endpoints.ts; shared/docs/fal-models.md); ranges
 * the types do not carry come from FAL's model pages where found, else
 * they are kept inside every documented example.  Prices are FAL's per
 * call at default parameters (USD; < 0 = unknown, never shown as 0); the
 * sources, and what could not be checked, are in docs/models.md.  Only
 * parameters a person understands are offered (quality, texture, PBR,
 * polygon count, remesh, topology, seed), not the sampler's knobs.
 */
#include <stdio.h>
#include <string.h>

#include "img2glb.h" /* the local model's limits (constants only) */
#include "spool.h"

#define SEED_MAX 2147483647.0

/* The offline model's ranges and defaults are its own (img2glb.h, where
 * i2g_convert enforces them); this row only names and describes them. */
static const struct model_param local_params[] = {
    {"mode", PT_ENUM, 0, 0, "\"" I2G_MODE_DEF "\"", I2G_MODES,
        "Automatic picks it from the photo: flat logos are extruded, symmetric objects turned on a lathe, other objects puffed up, and a relief when the object cannot be cut out",
        0},
    {"resolution", PT_INT, I2G_RES_MIN, I2G_RES_MAX, I2G_TEXT(I2G_RES_DEF),
        NULL,
        "Grid cells along the long side: more is finer, but the file is larger",
        0},
    {"thickness", PT_FLOAT, I2G_THICK_MIN, I2G_THICK_MAX,
        I2G_TEXT(I2G_THICK_DEF), NULL,
        "Thickness as a fraction of the model's width", 0},
    {"back", PT_ENUM, 0, 0, "\"" I2G_BACK_DEF "\"", I2G_BACKS,
        "Back: the photo mirrored and darkened, or a plain colour", 0},
};

/* Tripo v2.5: pbr's default is disputed (fal-models.md), so it is sent. */
static const struct model_param tripo_params[] = {
    {"face_limit", PT_INT, 500, 500000, NULL, NULL,
        "How many triangles the model may have; automatic lets the model choose",
        0},
    {"texture", PT_ENUM, 0, 0, "\"standard\"", "no|standard|HD",
        "The texture painted from the photo: none costs less, HD costs more",
        0},
    {"pbr", PT_BOOL, 0, 0, "false", NULL,
        "Physically based materials (forces a texture)", PF_SEND},
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Geometry seed", 0},
    {"texture_seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Texture seed", 0},
    {"auto_size", PT_BOOL, 0, 0, "false", NULL,
        "Scale the model to real-world metres", 0},
    {"texture_alignment", PT_ENUM, 0, 0, "\"original_image\"",
        "original_image|geometry", "What the texture follows", 0},
    {"orientation", PT_ENUM, 0, 0, "\"default\"", "default|align_image",
        "Model orientation", 0},
};

/* Tripo H3.1: "quad" is left out, it makes FBX where we keep GLB. */
static const struct model_param tripo_h31_params[] = {
    {"texture", PT_BOOL, 0, 0, "true", NULL, "Textured model", 0},
    {"texture_quality", PT_ENUM, 0, 0, "\"standard\"", "standard|detailed",
        "Texture quality", 0},
    {"pbr", PT_BOOL, 0, 0, "true", NULL,
        "Physically based materials (needs a texture)", PF_SEND},
    {"geometry_quality", PT_ENUM, 0, 0, "\"standard\"", "standard|detailed",
        "Geometry quality", 0},
    {"face_limit", PT_INT, 500, 500000, NULL, NULL,
        "Target face count; adaptive when unset", 0},
    {"model_seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Geometry seed", 0},
};

static const struct model_param tripo_p1_params[] = {
    {"texture", PT_BOOL, 0, 0, "true", NULL, "Textured model", 0},
    {"face_limit", PT_INT, 48, 20000, NULL, NULL,
        "Target face count (low poly); adaptive when unset", 0},
    {"model_seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Geometry seed", 0},
};

static const struct model_param trellis_params[] = {
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Random seed", 0},
    {"ss_guidance_strength", PT_FLOAT, 0, 10, "7.5", NULL,
        "Sparse structure guidance strength", 0},
    {"ss_sampling_steps", PT_INT, 1, 50, "12", NULL,
        "Sparse structure sampling steps", 0},
    {"slat_guidance_strength", PT_FLOAT, 0, 10, "3", NULL,
        "Structured latent guidance strength", 0},
    {"slat_sampling_steps", PT_INT, 1, 50, "12", NULL,
        "Structured latent sampling steps", 0},
    {"mesh_simplify", PT_FLOAT, 0.9, 0.98, "0.95", NULL,
        "Mesh simplification factor", 0},
    {"texture_size", PT_INT_ENUM, 0, 0, "1024", "512|1024|2048",
        "Texture size in pixels", 0},
};

static const struct model_param trellis2_params[] = {
    {"resolution", PT_INT_ENUM, 0, 0, "1024", "512|1024|1536",
        "Detail of the shape; higher is slower", 0},
    {"texture_size", PT_INT_ENUM, 0, 0, "2048", "1024|2048|4096",
        "Texture size in pixels", 0},
    {"decimation_target", PT_INT, 20000, 2000000, "500000", NULL,
        "Target vertex count; 20,000-50,000 suits the web", 0},
    {"remesh", PT_BOOL, 0, 0, "true", NULL,
        "Rebuild the mesh with cleaner triangles", 0},
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Random seed", 0},
};

static const struct model_param hunyuan_params[] = {
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Random seed", 0},
    {"num_inference_steps", PT_INT, 1, 50, "50", NULL, "Inference steps", 0},
    {"guidance_scale", PT_FLOAT, 0, 20, "7.5", NULL, "Guidance scale", 0},
    {"octree_resolution", PT_INT, 1, 1024, "256", NULL, "Octree resolution", 0},
    {"textured_mesh", PT_BOOL, 0, 0, "false", NULL,
        "Textured mesh (costs three times a white mesh)", 0},
};

/* Hunyuan v3 / v3.1 Pro: enable_pbr changes the price, so it is sent. */
static const struct model_param hunyuan_v3_params[] = {
    {"generate_type", PT_ENUM, 0, 0, "\"Normal\"", "Normal|LowPoly|Geometry",
        "Normal: textured; LowPoly: fewer polygons; Geometry: no texture", 0},
    {"face_count", PT_INT, 40000, 1500000, "500000", NULL, "Target face count",
        0},
    {"enable_pbr", PT_BOOL, 0, 0, "false", NULL,
        "Physically based materials (not with Geometry)", PF_SEND},
    {"polygon_type", PT_ENUM, 0, 0, "\"triangle\"", "triangle|quadrilateral",
        "Polygons of a LowPoly model", 0},
};

static const struct model_param hunyuan_v31_pro_params[] = {
    {"generate_type", PT_ENUM, 0, 0, "\"Normal\"", "Normal|Geometry",
        "Normal: textured; Geometry: no texture", 0},
    {"face_count", PT_INT, 40000, 1500000, "500000", NULL, "Target face count",
        0},
    {"enable_pbr", PT_BOOL, 0, 0, "false", NULL,
        "Physically based materials (not with Geometry)", PF_SEND},
};

static const struct model_param hunyuan_v31_rapid_params[] = {
    {"enable_geometry", PT_BOOL, 0, 0, "false", NULL,
        "Shape only, without a texture", 0},
    {"enable_pbr", PT_BOOL, 0, 0, "false", NULL,
        "Physically based materials (not with shape only)", PF_SEND},
};

static const struct model_param triposr_params[] = {
    {"output_format", PT_ENUM, 0, 0, "\"glb\"", "glb",
        "Output format (GLB only here)", 0},
    {"do_remove_background", PT_BOOL, 0, 0, "true", NULL,
        "Remove the background first", 0},
    {"foreground_ratio", PT_FLOAT, 0.5, 1, "0.9", NULL,
        "Share of the image the subject fills", 0},
    {"mc_resolution", PT_INT, 32, 1024, "256", NULL,
        "Marching cubes resolution", 0},
};

/* Meshy 6: rigging and animation are left out (a different product). */
static const struct model_param meshy6_params[] = {
    {"should_texture", PT_BOOL, 0, 0, "true", NULL, "Textured model", 0},
    {"enable_pbr", PT_BOOL, 0, 0, "false", NULL,
        "Physically based materials (needs a texture)", PF_SEND},
    {"model_type", PT_ENUM, 0, 0, "\"standard\"", "standard|lowpoly",
        "Standard detail or a low-poly model", 0},
    {"topology", PT_ENUM, 0, 0, "\"triangle\"", "triangle|quad",
        "Mesh topology", 0},
    {"target_polycount", PT_INT, 100, 300000, "30000", NULL,
        "Target polygon count", 0},
    {"should_remesh", PT_BOOL, 0, 0, "true", NULL,
        "Remesh to the topology and polygon count", 0},
    {"symmetry_mode", PT_ENUM, 0, 0, "\"auto\"", "off|auto|on", "Symmetry", 0},
};

/*
 * Rodin 2.5: the tier sets the price and its default differs between
 * FAL's page (Medium) and the client types (High): always sent.  The
 * geometry comes as GLB only here.
 */
static const struct model_param rodin_params[] = {
    {"tier", PT_ENUM, 0, 0, "\"Gen-2.5-High\"",
        "Gen-2.5-Minimum|Gen-2.5-Extreme-Low|Gen-2.5-Low|Gen-2.5-Medium|"
        "Gen-2.5-High|Gen-2.5-Extreme-High",
        "Quality tier; Extreme-High costs twice as much", PF_SEND},
    {"material", PT_ENUM, 0, 0, "\"All\"", "PBR|Shaded|All|None",
        "Materials: PBR, baked shading, both, or none", 0},
    {"quality_mesh_option", PT_ENUM, 0, 0, "\"Auto\"",
        "Auto|4K Quad|8K Quad|18K Quad|50K Quad|100K Quad|200K Quad|"
        "2K Triangle|20K Triangle|50K Triangle|150K Triangle|500K Triangle|"
        "1M Triangle|2M Triangle",
        "Polygon count and topology", 0},
    {"seed", PT_INT, 0, 65535, NULL, NULL, "Random seed", 0},
    {"geometry_file_format", PT_ENUM, 0, 0, "\"glb\"", "glb",
        "Output format (GLB only here)", PF_SEND},
};

static const struct model_param pixal3d_params[] = {
    {"resolution", PT_INT_ENUM, 0, 0, "1024", "1024|1536",
        "Detail of the shape; higher is slower", 0},
    {"texture_size", PT_INT_ENUM, 0, 0, "2048", "1024|2048|4096",
        "Texture size in pixels", 0},
    {"decimation_target", PT_INT, 20000, 2000000, "200000", NULL,
        "Target vertex count", 0},
    {"remesh", PT_BOOL, 0, 0, "true", NULL,
        "Rebuild the mesh with cleaner triangles", 0},
    {"seed", PT_INT, 0, SEED_MAX, NULL, NULL, "Random seed", 0},
};

/* Tripo v2.5 per FAL's page: $0.20 no texture, $0.30 standard, $0.40 HD. */
static const struct model_price_rule tripo_price[] = {
    {"texture", "\"no\"", -0.10, 0},
    {"texture", "\"HD\"", 0.10, 0},
};
static const struct model_price_rule hunyuan_price[] = {
    {"textured_mesh", "true", 0, 3},
};
static const struct model_price_rule hunyuan_v3_price[] = {
    {"enable_pbr", "true", 0.15, 0},
};
/* Rodin: $0.40, $0.80 at Extreme-High (FAL's page). */
static const struct model_price_rule rodin_price[] = {
    {"tier", "\"Gen-2.5-Extreme-High\"", 0.40, 0},
};

/* No texture means no PBR either (PBR would turn the texture back on). */
static const struct model_force tripo_force[] = {
    {"texture", "\"no\"", "pbr", "false"},
};
static const struct model_force tripo_h31_force[] = {
    {"texture", "false", "pbr", "false"},
};
static const struct model_force meshy6_force[] = {
    {"should_texture", "false", "enable_pbr", "false"},
};
static const struct model_force hunyuan_v3_force[] = {
    {"generate_type", "\"Geometry\"", "enable_pbr", "false"},
};
static const struct model_force hunyuan_rapid_force[] = {
    {"enable_geometry", "true", "enable_pbr", "false"},
};

/*
 * The few settings the upload page shows first, in a person's words (the
 * rest are under "Advanced" with their API names): a label and, for
 * choices, labels in the order of the parameter's choices (true, false
 * for a boolean).
 */
static const struct model_setting local_settings[] = {
    {"mode", "Shape",
        "Automatic|Puffed up|Turned on a lathe|Extruded (flat logos)|Relief|Flat card"},
    {"resolution", "Detail", NULL},
};
static const struct model_setting tripo_settings[] = {
    {"texture", "Texture", "None|Standard|High detail (HD)"},
    {"face_limit", "Polygon budget", NULL},
};
static const struct model_setting tripo_h31_settings[] = {
    {"texture_quality", "Texture", "Standard|Detailed"},
    {"geometry_quality", "Shape quality", "Standard|Detailed"},
    {"face_limit", "Polygon budget", NULL},
};
static const struct model_setting tripo_p1_settings[] = {
    {"texture", "Texture", "With texture|Shape only"},
    {"face_limit", "Polygon budget", NULL},
};
static const struct model_setting trellis_settings[] = {
    {"texture_size", "Texture", "512 px|1024 px|2048 px"},
};
static const struct model_setting trellis2_settings[] = {
    {"resolution", "Shape detail", "Standard|High|Highest"},
    {"texture_size", "Texture", "1K|2K|4K"},
    {"decimation_target", "Polygon budget", NULL},
};
static const struct model_setting hunyuan_settings[] = {
    {"octree_resolution", "Shape detail", NULL},
    {"textured_mesh", "Texture",
        "With texture (three times the price)|Shape only"},
};
static const struct model_setting hunyuan_v3_settings[] = {
    {"generate_type", "Kind of model", "Textured|Low poly|Shape only"},
    {"face_count", "Polygon budget", NULL},
};
static const struct model_setting hunyuan_v31_pro_settings[] = {
    {"generate_type", "Kind of model", "Textured|Shape only"},
    {"face_count", "Polygon budget", NULL},
};
static const struct model_setting hunyuan_v31_rapid_settings[] = {
    {"enable_geometry", "Texture", "Shape only|With texture"},
};
static const struct model_setting triposr_settings[] = {
    {"mc_resolution", "Shape detail", NULL},
};
static const struct model_setting meshy6_settings[] = {
    {"should_texture", "Texture", "With texture|Shape only"},
    {"target_polycount", "Polygon budget", NULL},
};
static const struct model_setting rodin_settings[] = {
    {"tier", "Quality",
        "Minimum|Extra low|Low|Medium|High|Extra high (twice the price)"},
    {"quality_mesh_option", "Polygon budget", NULL},
};
static const struct model_setting pixal3d_settings[] = {
    {"resolution", "Shape detail", "Standard|High"},
    {"texture_size", "Texture", "1K|2K|4K"},
    {"decimation_target", "Polygon budget", NULL},
};

#define NPARAMS(a) .params = a, .nparams = sizeof(a) / sizeof(a[0])
#define NSETTINGS(a) .settings = a, .nsettings = sizeof(a) / sizeof(a[0])
#define NPRICE(a) .price_rules = a, .nprice_rules = sizeof(a) / sizeof(a[0])
#define NFORCE(a) .forces = a, .nforces = sizeof(a) / sizeof(a[0])

static const struct model_info models[] = {
    {.id = "local",
        .name = "Built-in offline model",
        .description =
            "Runs on this server without a provider: cuts the subject out and inflates, turns or extrudes it, or makes a relief, textured with the photo",
        .good_at =
            "Runs on this server at no cost: quick solid shapes from photos on a plain background",
        .provider = "local",
        .typical_s = 1,
        .price_usd = 0,
        NSETTINGS(local_settings),
        NPARAMS(local_params)},
    {.id = "tripo3d-v2.5",
        .name = "Tripo3D v2.5",
        .description = "High-quality textured meshes from one image (FAL)",
        .good_at =
            "Textured everyday objects with clean shapes; a good first choice",
        .provider = "fal",
        .fal_id = "tripo3d/tripo/v2.5/image-to-3d",
        .image_field = "image_url",
        .outputs = {"pbr_model", "model_mesh", "base_model"},
        .typical_s = 90,
        .price_usd = 0.30,
        NPRICE(tripo_price),
        NFORCE(tripo_force),
        NSETTINGS(tripo_settings),
        NPARAMS(tripo_params)},
    {.id = "tripo3d-h3.1",
        .name = "Tripo3D H3.1",
        .description =
            "Tripo's 2026 model: detailed geometry and textures from one image (FAL)",
        .good_at = "Tripo's most detailed shapes and textures",
        .provider = "fal",
        .fal_id = "tripo3d/h3.1/image-to-3d",
        .image_field = "image_url",
        .outputs = {"model_mesh"},
        .typical_s = 120,
        .price_usd = -1,
        NFORCE(tripo_h31_force),
        NSETTINGS(tripo_h31_settings),
        NPARAMS(tripo_h31_params)},
    {.id = "tripo3d-p1",
        .name = "Tripo3D P1",
        .description = "Clean low-poly models from one image (FAL)",
        .good_at = "Low-poly models for games and the web",
        .provider = "fal",
        .fal_id = "tripo3d/p1/image-to-3d",
        .image_field = "image_url",
        .outputs = {"model_mesh"},
        .typical_s = 90,
        .price_usd = -1,
        NSETTINGS(tripo_p1_settings),
        NPARAMS(tripo_p1_params)},
    {.id = "trellis",
        .name = "TRELLIS",
        .description = "Structured 3D latents, fast and detailed (FAL)",
        .good_at = "Detailed shapes, fast and at a low price",
        .provider = "fal",
        .fal_id = "fal-ai/trellis",
        .image_field = "image_url",
        .outputs = {"model_mesh"},
        .typical_s = 30,
        .price_usd = 0.02,
        NSETTINGS(trellis_settings),
        NPARAMS(trellis_params)},
    {.id = "trellis-2",
        .name = "TRELLIS.2",
        .description =
            "Microsoft's second TRELLIS: sharper shapes, PBR textures up to 4K (FAL)",
        .good_at = "Sharp shapes with PBR textures up to 4K",
        .provider = "fal",
        .fal_id = "fal-ai/trellis-2",
        .image_field = "image_url",
        .outputs = {"model_glb"},
        .typical_s = 60,
        .price_usd = -1,
        NSETTINGS(trellis2_settings),
        NPARAMS(trellis2_params)},
    {.id = "hunyuan3d-v2",
        .name = "Hunyuan3D v2",
        .description = "Tencent's Hunyuan3D 2.0 shape and texture (FAL)",
        .good_at = "Shapes at a low price, with a texture if you want one",
        .provider = "fal",
        .fal_id = "fal-ai/hunyuan3d/v2",
        .image_field = "input_image_url",
        .outputs = {"model_mesh"},
        .typical_s = 60,
        .price_usd = 0.16,
        NPRICE(hunyuan_price),
        NSETTINGS(hunyuan_settings),
        NPARAMS(hunyuan_params)},
    {.id = "hunyuan3d-v3",
        .name = "Hunyuan3D v3",
        .description =
            "Tencent's Hunyuan3D 3.0: textured, low-poly or shape-only models (FAL)",
        .good_at = "Textured, low-poly or shape-only models",
        .provider = "fal",
        .fal_id = "fal-ai/hunyuan3d-v3/image-to-3d",
        .image_field = "input_image_url",
        .outputs = {"model_glb"},
        .typical_s = 120,
        .price_usd = 0.375,
        NPRICE(hunyuan_v3_price),
        NFORCE(hunyuan_v3_force),
        NSETTINGS(hunyuan_v3_settings),
        NPARAMS(hunyuan_v3_params)},
    {.id = "hunyuan3d-v3.1-pro",
        .name = "Hunyuan3D v3.1 Pro",
        .description = "Tencent's Hunyuan3D 3.1, the detailed one (FAL)",
        .good_at = "Hunyuan's most detailed models",
        .provider = "fal",
        .fal_id = "fal-ai/hunyuan-3d/v3.1/pro/image-to-3d",
        .image_field = "input_image_url",
        .outputs = {"model_glb"},
        .typical_s = 150,
        .price_usd = -1,
        NFORCE(hunyuan_v3_force),
        NSETTINGS(hunyuan_v31_pro_settings),
        NPARAMS(hunyuan_v31_pro_params)},
    {.id = "hunyuan3d-v3.1-rapid",
        .name = "Hunyuan3D v3.1 Rapid",
        .description = "Tencent's Hunyuan3D 3.1, the fast one (FAL)",
        .good_at = "Hunyuan's quality in less time",
        .provider = "fal",
        .fal_id = "fal-ai/hunyuan-3d/v3.1/rapid/image-to-3d",
        .image_field = "input_image_url",
        .outputs = {"model_glb"},
        .typical_s = 60,
        .price_usd = -1,
        NFORCE(hunyuan_rapid_force),
        NSETTINGS(hunyuan_v31_rapid_settings),
        NPARAMS(hunyuan_v31_rapid_params)},
    {.id = "triposr",
        .name = "TripoSR",
        .description = "Very fast single-image reconstruction (FAL)",
        .good_at = "A rough shape in seconds, for a quick look",
        .provider = "fal",
        .fal_id = "fal-ai/triposr",
        .image_field = "image_url",
        .outputs = {"model_mesh"},
        .typical_s = 10,
        .price_usd = 0.07,
        NSETTINGS(triposr_settings),
        NPARAMS(triposr_params)},
    {.id = "meshy-6",
        .name = "Meshy 6",
        .description =
            "Meshy's sixth model: clean topology, quad or triangle meshes (FAL)",
        .good_at = "Clean quad or triangle meshes that are easy to edit",
        .provider = "fal",
        .fal_id = "fal-ai/meshy/v6/image-to-3d",
        .image_field = "image_url",
        .outputs = {"model_glb"},
        .typical_s = 300,
        .price_usd = -1,
        NFORCE(meshy6_force),
        NSETTINGS(meshy6_settings),
        NPARAMS(meshy6_params)},
    {.id = "rodin-2.5",
        .name = "Hyper3D Rodin 2.5",
        .description =
            "Production-ready models with PBR materials in quality tiers (FAL)",
        .good_at = "Production-ready models with PBR materials",
        .provider = "fal",
        .fal_id = "fal-ai/hyper3d/rodin/v2.5",
        .image_field = "image_urls",
        .image_array = 1,
        .outputs = {"model_mesh"},
        .typical_s = 120,
        .price_usd = 0.40,
        NPRICE(rodin_price),
        NSETTINGS(rodin_settings),
        NPARAMS(rodin_params)},
    {.id = "pixal3d",
        .name = "Pixal3D",
        .description =
            "Tencent ARC's pixel-aligned shapes that keep the photo's detail (FAL)",
        .good_at = "Shapes that keep the photo's fine detail",
        .provider = "fal",
        .fal_id = "fal-ai/pixal3d",
        .image_field = "image_url",
        .outputs = {"model_glb"},
        .typical_s = 90,
        .price_usd = -1,
        NSETTINGS(pixal3d_settings),
        NPARAMS(pixal3d_params)},
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
