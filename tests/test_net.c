/* test_net.c: whole networks, the UNet and the MLP.  Their forward passes
 * and every gradient match the PyTorch mirror (tools/torch_mirror.py ->
 * tests/data/parity_*.safetensors); their gradients match finite differences
 * for inputs and parameters; results are bit-identical at any thread count
 * and for a sample alone or in a batch; the presets build, count and
 * describe themselves; bad configs are errors. */
#include <string.h>

#include "check.h"
#include "ddpm/config.h"
#include "ddpm/layers.h"
#include "ddpm/safetensors.h"
#include "ddpm/threads.h"
#include "ddpm/net.h"

/* max |a - b| / max |b| over n elements */
static double rel_err(const float *a, const float *b, size_t n, size_t *worst)
{
    double num = 0, den = 0;
    *worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > num) num = d, *worst = i;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return den > 0 ? num / den : num;
}

/* A UNet from its own config. */
static int create_unet(ddpm_net **net, const ddpm_unet_config *u, ddpm_error *err)
{
    ddpm_net_config c = {.arch = DDPM_ARCH_UNET, .unet = *u};
    return ddpm_net_create(net, &c, err);
}

static float *read_tensor(const ddpm_safetensors *f, const char *name, size_t *n_out)
{
    const ddpm_st_tensor *t = ddpm_safetensors_find(f, name);
    CHECK(t, "reference lacks %s", name);
    int64_t n = ddpm_st_numel(t);
    float *buf = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ddpm_error err = {0};
    CHECK(ddpm_safetensors_read_f32(f, name, t->shape, t->ndim, buf, &err) == 0, "%s", err.msg);
    if (n_out) *n_out = (size_t)n;
    return buf;
}

static void check_parity(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DDPM_TEST_DATA, file);
    ddpm_error err = {0};
    ddpm_safetensors *f;
    CHECK(ddpm_safetensors_open(&f, path, 64u << 20, &err) == 0, "%s", err.msg);
    const char *arch_name = ddpm_safetensors_meta(f, "arch");
    ddpm_arch arch = DDPM_ARCH_UNET;
    CHECK(!arch_name || ddpm_arch_parse(arch_name, &arch, &err) == 0, "%s", err.msg);
    ddpm_net_config cfg;
    CHECK(ddpm_net_config_from_json(arch, ddpm_safetensors_meta(f, ddpm_arch_name(arch)), &cfg, &err) == 0, "%s",
          err.msg);
    ddpm_net *net;
    CHECK(ddpm_net_create(&net, &cfg, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(net);
    float *params = calloc(P, sizeof(float)), *grads = calloc(P, sizeof(float));
    /* every tensor of the mirror is in the table with the same shape, and vice versa */
    int n_model = 0;
    for (int i = 0; i < ddpm_safetensors_count(f); i++)
        n_model += strncmp(ddpm_safetensors_tensor(f, i)->name, "model.", 6) == 0;
    CHECK(n_model == ddpm_net_num_tensors(net), "mirror has %d tensors, C has %d", n_model, ddpm_net_num_tensors(net));
    for (int i = 0; i < ddpm_net_num_tensors(net); i++) {
        const ddpm_param_info *p = ddpm_net_tensor(net, i);
        char name[160];
        snprintf(name, sizeof name, "model.%s", p->name);
        int64_t shape[4];
        for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
        CHECK(ddpm_safetensors_read_f32(f, name, shape, p->ndim, params + p->offset, &err) == 0, "%s", err.msg);
    }
    size_t nx, nt, ntarget, nout;
    float *x = read_tensor(f, "input.x", &nx);
    float *tf = read_tensor(f, "input.t", &nt);
    float *target = read_tensor(f, "input.target", &ntarget);
    float *expect_out = read_tensor(f, "expect.out", &nout);
    float *expect_loss = read_tensor(f, "expect.loss", NULL);
    float *expect_dx = read_tensor(f, "expect.dx", NULL);
    const int B = (int)nt;
    int t[16];
    for (int b = 0; b < B; b++) t[b] = (int)tf[b];

    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, net, B, true, &err) == 0, "%s", err.msg);
    ddpm_net_forward(net, params, ws, x, t, B, NULL);
    const float *out = ddpm_net_output(ws);
    size_t worst;
    double e = rel_err(out, expect_out, nout, &worst);
    printf("%s: output rel. error %.2e\n", file, e);
    CHECK(e < 1e-4, "%s: output differs from PyTorch: rel %.3g at %zu (%g vs %g)", file, e, worst, out[worst], expect_out[worst]);
    double loss = ddpm_mse_forward(out, target, nout);
    CHECK_CLOSE(loss, expect_loss[0], 1e-5, 0, "%s: loss", file);

    float *dout = calloc(nout, sizeof(float)), *dx = calloc(nx, sizeof(float));
    ddpm_mse_backward(dout, out, target, 1.0f, nout);
    ddpm_net_backward(net, params, grads, ws, dout, dx);
    double worst_grad = 0;
    for (int i = 0; i < ddpm_net_num_tensors(net); i++) {
        const ddpm_param_info *p = ddpm_net_tensor(net, i);
        char name[160];
        snprintf(name, sizeof name, "grad.%s", p->name);
        float *g = read_tensor(f, name, NULL);
        double ge = rel_err(grads + p->offset, g, p->numel, &worst);
        if (ge > worst_grad) worst_grad = ge;
        CHECK(ge < 1e-4, "%s: gradient of %s differs from PyTorch: rel %.3g at %zu (%g vs %g)", file,
              p->name, ge, worst, grads[p->offset + worst], g[worst]);
        free(g);
    }
    double ex = rel_err(dx, expect_dx, nx, &worst);
    CHECK(ex < 1e-4, "%s: input gradient differs: rel %.3g", file, ex);
    printf("%s: %d gradients, worst rel. error %.2e; input gradient %.2e\n", file,
           ddpm_net_num_tensors(net), worst_grad, ex);

    ddpm_net_workspace_free(ws);
    ddpm_net_free(net);
    ddpm_safetensors_close(f);
    free(params), free(grads), free(x), free(tf), free(target), free(expect_out), free(expect_loss);
    free(expect_dx), free(dout), free(dx);
}

/* ---- finite differences on a small net ------------------------------------------ */

typedef struct {
    ddpm_net *net;
    ddpm_net_workspace *ws;
    float *params, *x, *w;   /* w: the random projection of the loss */
    int t[2];
    int B;
    size_t n_out;
} fd_ctx;

static double fd_loss(fd_ctx *c)
{
    ddpm_net_forward(c->net, c->params, c->ws, c->x, c->t, c->B, NULL);
    const float *out = ddpm_net_output(c->ws);
    double l = 0;
    for (size_t i = 0; i < c->n_out; i++) l += (double)c->w[i] * out[i];
    return l;
}

static void check_finite_differences(const char *what, const ddpm_net_config *cfg)
{
    ddpm_error err = {0};
    fd_ctx c = {.B = 2, .t = {3, 750}};
    CHECK(ddpm_net_create(&c.net, cfg, &err) == 0, "%s", err.msg);
    CHECK(ddpm_net_workspace_create(&c.ws, c.net, 2, true, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(c.net), nx = 2 * ddpm_net_config_sample_floats(cfg);
    c.n_out = nx;
    c.params = malloc(sizeof(float) * P);
    float *grads = calloc(P, sizeof(float));
    c.x = malloc(sizeof(float) * nx);
    c.w = malloc(sizeof(float) * nx);
    float *dx = calloc(nx, sizeof(float));
    ddpm_rng r;
    ddpm_rng_init(&r, 99, 0);
    ddpm_net_init_params(c.net, c.params, 5);
    /* no zero-initialised layers: every path must carry gradient */
    for (size_t i = 0; i < P; i++) c.params[i] += (float)(0.2 * ddpm_rng_normal(&r));
    ddpm_rng_normal_fill(&r, c.x, nx);
    ddpm_rng_normal_fill(&r, c.w, nx);

    fd_loss(&c);
    ddpm_net_backward(c.net, c.params, grads, c.ws, c.w, dx);

    /* central differences in float with h = 1e-2: smooth layers keep the
     * truncation error ~1e-4, rounding ~1e-5 */
    const float h = 1e-2f;
    int checked = 0;
    double worst = 0;
    for (int i = 0; i < ddpm_net_num_tensors(c.net); i++) {
        const ddpm_param_info *p = ddpm_net_tensor(c.net, i);
        for (int k = 0; k < 3; k++) {
            size_t j = p->offset + ddpm_rng_below(&r, (uint32_t)p->numel);
            float keep = c.params[j];
            c.params[j] = keep + h;
            double lp = fd_loss(&c);
            c.params[j] = keep - h;
            double lm = fd_loss(&c);
            c.params[j] = keep;
            double num = (lp - lm) / (2 * h), ana = grads[j];
            double e = fabs(num - ana) / fmax(1.0, fabs(num));
            if (e > worst) worst = e;
            CHECK(e < 2e-2, "d loss / d %s[%zu]: analytic %g, numeric %g", p->name, j - p->offset, ana, num);
            checked++;
        }
    }
    for (int k = 0; k < 20; k++) {
        size_t j = ddpm_rng_below(&r, (uint32_t)nx);
        float keep = c.x[j];
        c.x[j] = keep + h;
        double lp = fd_loss(&c);
        c.x[j] = keep - h;
        double lm = fd_loss(&c);
        c.x[j] = keep;
        double num = (lp - lm) / (2 * h);
        double e = fabs(num - dx[j]) / fmax(1.0, fabs(num));
        CHECK(e < 2e-2, "d loss / d x[%zu]: analytic %g, numeric %g", j, dx[j], num);
    }
    printf("%s: finite differences of %d parameters and 20 inputs, worst rel. error %.2e\n", what, checked, worst);
    ddpm_net_workspace_free(c.ws);
    ddpm_net_free(c.net);
    free(c.params), free(grads), free(c.x), free(c.w), free(dx);
}

/* ---- structure -------------------------------------------------------------------- */

static void check_presets_and_configs(void)
{
    ddpm_error err = {0};
    for (int i = 0; ddpm_unet_preset_names[i]; i++) {
        ddpm_unet_config cfg;
        CHECK(ddpm_unet_preset(ddpm_unet_preset_names[i], &cfg, &err) == 0, "%s", err.msg);
        ddpm_net *net;
        CHECK(create_unet(&net, &cfg, &err) == 0, "%s", err.msg);
        char desc[256];
        ddpm_unet_config_describe(&cfg, desc, sizeof desc);
        printf("preset %-6s %8zu parameters, %7.1f MFLOP/image forward: %s\n", ddpm_unet_preset_names[i],
               ddpm_net_num_params(net), ddpm_net_forward_flops(net) / 1e6, desc);
        /* the parameter table tiles the arena and names are unique */
        size_t off = 0;
        for (int k = 0; k < ddpm_net_num_tensors(net); k++) {
            const ddpm_param_info *p = ddpm_net_tensor(net, k);
            CHECK(p->offset == off, "%s is not contiguous", p->name);
            off += p->numel;
            CHECK(ddpm_net_find_tensor(net, p->name) == k, "duplicate name %s", p->name);
        }
        CHECK(off == ddpm_net_num_params(net), "table does not cover the arena");
        /* an EMA-only checkpoint of the preset stays under 8 MB */
        CHECK(ddpm_net_num_params(net) * 4 < 8u * 1000 * 1000, "%s is too large to bundle", ddpm_unet_preset_names[i]);
        /* JSON round trip */
        char *json = ddpm_unet_config_to_json(&cfg);
        ddpm_unet_config back;
        CHECK(ddpm_unet_config_from_json(json, &back, &err) == 0 && ddpm_unet_config_equal(&cfg, &back), "json: %s", json);
        free(json);
        ddpm_net_free(net);
    }
    ddpm_unet_config cfg;
    CHECK(ddpm_unet_preset("huge", &cfg, &err) == DDPM_ERR && strstr(err.msg, "tiny, small"), "unknown preset: %s", err.msg);
    /* 28 -> 14 -> 7 works, a fourth level does not divide 28 */
    CHECK(ddpm_unet_preset("tiny", &cfg, &err) == 0, "tiny");
    cfg.levels = 4;
    cfg.channel_mult[3] = 2;
    CHECK(ddpm_unet_config_validate(&cfg, &err) == DDPM_ERR && strstr(err.msg, "divisible"), "levels: %s", err.msg);
    CHECK(ddpm_unet_preset("tiny", &cfg, &err) == 0, "tiny");
    cfg.groups = 5;
    CHECK(ddpm_unet_config_validate(&cfg, &err) == DDPM_ERR && strstr(err.msg, "groups"), "groups: %s", err.msg);
    CHECK(ddpm_unet_preset("tiny", &cfg, &err) == 0, "tiny");
    cfg.dropout = NAN;
    CHECK(ddpm_unet_config_validate(&cfg, &err) == DDPM_ERR, "NaN dropout accepted");
    const char *bad_json[] = {"", "{", "[]", "{\"in_channels\": 1}", "null",
                              "{\"in_channels\":1,\"out_channels\":1,\"image_size\":28,\"base_channels\":32,"
                              "\"channel_mult\":[1,2,2],\"attention\":[false,false],\"res_blocks\":1,"
                              "\"mid_attention\":true,\"groups\":8,\"time_embed_dim\":128,\"dropout\":0}",
                              "{\"in_channels\":1e300,\"out_channels\":1,\"image_size\":28,\"base_channels\":32,"
                              "\"channel_mult\":[1,2,2],\"attention\":[false,false,false],\"res_blocks\":1,"
                              "\"mid_attention\":true,\"groups\":8,\"time_embed_dim\":128,\"dropout\":0}"};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++)
        CHECK(ddpm_unet_config_from_json(bad_json[i], &cfg, &err) == DDPM_ERR, "bad json %zu accepted", i);
    CHECK(ddpm_unet_config_from_json(NULL, &cfg, &err) == DDPM_ERR, "NULL json accepted");

    /* RGB at 32x32 with three levels builds and runs */
    ddpm_unet_config rgb = {.in_channels = 3, .out_channels = 3, .image_size = 32, .base_channels = 8,
                            .levels = 3, .channel_mult = {1, 2, 2}, .res_blocks = 1,
                            .attention = {false, false, true}, .mid_attention = true, .groups = 4,
                            .time_embed_dim = 16};
    ddpm_net *net;
    CHECK(create_unet(&net, &rgb, &err) == 0, "%s", err.msg);
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, net, 2, false, &err) == 0, "%s", err.msg);
    float *p = calloc(ddpm_net_num_params(net), sizeof(float)), x[2 * 3 * 32 * 32] = {0};
    ddpm_net_init_params(net, p, 1);
    int t[2] = {0, 999};
    ddpm_net_forward(net, p, ws, x, t, 2, NULL);
    /* zero-initialised conv_out: the untrained net outputs exactly zero */
    for (int i = 0; i < 2 * 3 * 32 * 32; i++) CHECK(ddpm_net_output(ws)[i] == 0.0f, "conv_out not zero-initialised");
    free(p);
    ddpm_net_workspace_free(ws);
    ddpm_net_free(net);
}

/* The MLP's presets, checks and JSON; an untrained MLP outputs zero. */
static void check_mlp_configs(void)
{
    ddpm_error err = {0};
    ddpm_net_config cfg;
    CHECK(ddpm_net_preset("mlp", &cfg, &err) == 0 && cfg.arch == DDPM_ARCH_MLP, "mlp preset: %s", err.msg);
    CHECK(ddpm_net_preset("nope", &cfg, &err) == DDPM_ERR && strstr(err.msg, "mlp"), "unknown: %s", err.msg);
    ddpm_net_preset("mlp", &cfg, &err);
    CHECK(strcmp(ddpm_net_config_preset_name(&cfg), "mlp") == 0, "preset name");
    int C, H, W;
    ddpm_net_config_shape(&cfg, &C, &H, &W);
    CHECK(C == 2 && H == 1 && W == 1, "mlp sample shape %dx%dx%d", C, H, W);
    ddpm_net *net;
    CHECK(ddpm_net_create(&net, &cfg, &err) == 0, "%s", err.msg);
    char desc[256];
    ddpm_net_config_describe(&cfg, desc, sizeof desc);
    printf("preset mlp    %8zu parameters, %7.3f MFLOP/point forward: %s\n", ddpm_net_num_params(net),
           ddpm_net_forward_flops(net) / 1e6, desc);
    float *p = calloc(ddpm_net_num_params(net), sizeof(float)), x[2 * 2] = {0.5f, -1.0f, 2.0f, 0.25f};
    ddpm_net_init_params(net, p, 1);
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, net, 2, false, &err) == 0, "%s", err.msg);
    int t[2] = {0, 999};
    ddpm_net_forward(net, p, ws, x, t, 2, NULL);
    for (int i = 0; i < 4; i++) CHECK(ddpm_net_output(ws)[i] == 0.0f, "out_proj not zero-initialised");
    ddpm_net_workspace_free(ws);
    ddpm_net_free(net);
    free(p);
    char *json = ddpm_net_config_to_json(&cfg);
    ddpm_net_config back;
    CHECK(ddpm_net_config_from_json(DDPM_ARCH_MLP, json, &back, &err) == 0 && ddpm_net_config_equal(&cfg, &back),
          "json round trip: %s", json);
    CHECK(ddpm_net_config_from_json(DDPM_ARCH_UNET, json, &back, &err) == DDPM_ERR, "MLP JSON read as a UNet");
    free(json);
    /* each differs from a good one in one field, and that field is named */
    const char *good = "{\"data_dim\":2,\"hidden\":8,\"blocks\":1,\"time_embed_dim\":8,\"norm\":true,\"fourier\":2}";
    CHECK(ddpm_mlp_config_from_json(good, &cfg.mlp, &err) == 0, "good MLP json: %s", err.msg);
    const char *bad[][2] = {{"{}", "data_dim"},
                            {"{\"data_dim\":0,\"hidden\":8,\"blocks\":1,\"time_embed_dim\":8,\"norm\":true,\"fourier\":2}", "data_dim"},
                            {"{\"data_dim\":2,\"hidden\":7,\"blocks\":1,\"time_embed_dim\":8,\"norm\":true,\"fourier\":2}", "hidden"},
                            {"{\"data_dim\":2,\"hidden\":8,\"blocks\":99,\"time_embed_dim\":8,\"norm\":true,\"fourier\":2}", "blocks"},
                            {"{\"data_dim\":2,\"hidden\":8,\"blocks\":1,\"time_embed_dim\":8,\"norm\":1,\"fourier\":2}", "norm"},
                            {"{\"data_dim\":2,\"hidden\":8,\"blocks\":1,\"time_embed_dim\":8,\"norm\":true,\"fourier\":17}", "fourier"},
                            {"{\"data_dim\":2,\"hidden\":8,\"blocks\":1,\"time_embed_dim\":8,\"norm\":true}", "fourier"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(ddpm_mlp_config_from_json(bad[i][0], &cfg.mlp, &err) == DDPM_ERR && strstr(err.msg, bad[i][1]),
              "bad MLP json %zu: %s", i, err.msg);
    ddpm_arch arch;
    CHECK(ddpm_arch_parse("transformer", &arch, &err) == DDPM_ERR && strstr(err.msg, "unet"), "arch: %s", err.msg);
}

/* The forward of a batch equals the forward of each sample alone, bit for
 * bit, and repeats bit for bit; a weight changed in place (tensor `changed`)
 * is seen by a workspace that caches its packed weights. */
static void check_batch_independence(const char *preset, const char *changed)
{
    ddpm_net_config cfg;
    ddpm_error err = {0};
    CHECK(ddpm_net_preset(preset, &cfg, &err) == 0, "%s", preset);
    ddpm_net *net;
    CHECK(ddpm_net_create(&net, &cfg, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(net), D = ddpm_net_config_sample_floats(&cfg);
    float *params = malloc(sizeof(float) * P);
    ddpm_net_init_params(net, params, 3);
    ddpm_rng r;
    ddpm_rng_init(&r, 4, 0);
    for (size_t i = 0; i < P; i++) params[i] += (float)(0.02 * ddpm_rng_normal(&r));
    float *x = malloc(sizeof(float) * 4 * D), *out4 = malloc(sizeof(float) * 4 * D);
    const size_t bytes = sizeof(float) * 4 * D;
    ddpm_rng_normal_fill(&r, x, 4 * D);
    int t[4] = {0, 10, 500, 999};
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, net, 4, false, &err) == 0, "%s", err.msg);
    ddpm_net_forward(net, params, ws, x, t, 4, NULL);
    memcpy(out4, ddpm_net_output(ws), bytes);
    for (int b = 0; b < 4; b++) {
        ddpm_net_forward(net, params, ws, x + b * D, t + b, 1, NULL);
        CHECK(memcmp(ddpm_net_output(ws), out4 + b * D, sizeof(float) * D) == 0,
              "%s: sample %d alone differs from the batch", preset, b);
    }
    ddpm_net_forward(net, params, ws, x, t, 4, NULL);
    CHECK(memcmp(out4, ddpm_net_output(ws), bytes) == 0, "%s: forward is not repeatable", preset);
    /* the workspace keeps its packed weights while they do not change, so
     * weights changed in place (same pointer) must still be seen: the output
     * equals a fresh workspace's */
    const int k = ddpm_net_find_tensor(net, changed);
    CHECK(k >= 0, "%s has no tensor %s", preset, changed);
    const ddpm_param_info *w = ddpm_net_tensor(net, k);
    params[w->offset + w->numel / 2] += 0.5f;
    ddpm_net_forward(net, params, ws, x, t, 4, NULL);
    ddpm_net_workspace *fresh;
    CHECK(ddpm_net_workspace_create(&fresh, net, 4, false, &err) == 0, "%s", err.msg);
    ddpm_net_forward(net, params, fresh, x, t, 4, NULL);
    CHECK(memcmp(ddpm_net_output(fresh), ddpm_net_output(ws), bytes) == 0,
          "%s: a weight changed in place was not seen by the workspace", preset);
    CHECK(memcmp(out4, ddpm_net_output(ws), bytes) != 0, "%s: the changed weight changed nothing", preset);
    ddpm_net_workspace_free(fresh);
    ddpm_net_workspace_free(ws);
    ddpm_net_free(net);
    free(params), free(x), free(out4);
}

/* Forward, parameter gradients and the input gradient are the same bit for
 * bit at 1, 2 and 3 threads (lectures rely on the same seed giving the same
 * picture on any machine), for a batch of B that splits unevenly over
 * threads and gradient lanes, and for a batch of `part` samples small enough
 * to be one chunk, whose convolutions are split instead (which also equals
 * the same samples in the larger batch). */
static void check_thread_count_invariance(const char *preset, int B, int part)
{
    ddpm_net_config cfg;
    ddpm_error err = {0};
    CHECK(ddpm_net_preset(preset, &cfg, &err) == 0, "%s", preset);
    ddpm_net *net;
    CHECK(ddpm_net_create(&net, &cfg, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(net), D = ddpm_net_config_sample_floats(&cfg), n = (size_t)B * D;
    float *params = malloc(sizeof(float) * P), *x = malloc(sizeof(float) * n);
    float *dout = malloc(sizeof(float) * n), *out[3], *parts[3], *grads[3], *dx[3];
    int *t = malloc(sizeof(int) * (size_t)B);
    ddpm_net_init_params(net, params, 9);
    ddpm_rng r;
    ddpm_rng_init(&r, 10, 0);
    for (size_t i = 0; i < P; i++) params[i] += (float)(0.02 * ddpm_rng_normal(&r));
    ddpm_rng_normal_fill(&r, x, n);
    ddpm_rng_normal_fill(&r, dout, n);
    for (int b = 0; b < B; b++) t[b] = (int)ddpm_rng_below(&r, 1000);
    const int first = B - part;
    for (int k = 0; k < 3; k++) {
        ddpm_set_threads(k + 1);
        ddpm_net_workspace *ws;
        CHECK(ddpm_net_workspace_create(&ws, net, B, true, &err) == 0, "%s", err.msg);
        out[k] = malloc(sizeof(float) * n);
        grads[k] = calloc(P, sizeof(float));
        dx[k] = calloc(n, sizeof(float));
        parts[k] = malloc(sizeof(float) * (size_t)part * D);
        ddpm_net_forward(net, params, ws, x + first * D, t + first, part, NULL);
        memcpy(parts[k], ddpm_net_output(ws), sizeof(float) * (size_t)part * D);
        ddpm_net_forward(net, params, ws, x, t, B, NULL);
        memcpy(out[k], ddpm_net_output(ws), sizeof(float) * n);
        ddpm_net_backward(net, params, grads[k], ws, dout, dx[k]);
        ddpm_net_workspace_free(ws);
        CHECK(memcmp(parts[k], out[0] + first * D, sizeof(float) * (size_t)part * D) == 0,
              "%s: the last %d samples as a batch at %d threads differ from the batch of %d", preset, part,
              k + 1, B);
        if (k == 0) continue;
        CHECK(memcmp(out[0], out[k], sizeof(float) * n) == 0, "%s: forward differs at %d threads", preset, k + 1);
        CHECK(memcmp(grads[0], grads[k], sizeof(float) * P) == 0, "%s: gradients differ at %d threads", preset,
              k + 1);
        CHECK(memcmp(dx[0], dx[k], sizeof(float) * n) == 0, "%s: input gradient differs at %d threads", preset,
              k + 1);
    }
    ddpm_set_threads(1);
    for (int k = 0; k < 3; k++) free(out[k]), free(parts[k]), free(grads[k]), free(dx[k]);
    free(params), free(x), free(dout), free(t);
    ddpm_net_free(net);
    printf("%s: forward and backward are bit-identical at 1, 2 and 3 threads\n", preset);
}

/* Dropout draws its mask per layer and image, from the forward's rng: six
 * copies of one image (in different chunks and at every position in a
 * chunk) all come out different, and the same rng state repeats exactly. */
static void check_dropout_streams(void)
{
    ddpm_unet_config cfg;
    ddpm_error err = {0};
    CHECK(ddpm_unet_preset("tiny", &cfg, &err) == 0, "tiny");
    cfg.dropout = 0.3f;
    ddpm_net *net;
    CHECK(create_unet(&net, &cfg, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(net), D = 784;
    float *params = malloc(sizeof(float) * P), *x = malloc(sizeof(float) * 6 * D), *first = malloc(sizeof(float) * 6 * D);
    ddpm_net_init_params(net, params, 2);
    ddpm_rng r;
    ddpm_rng_init(&r, 3, 0);
    for (size_t i = 0; i < P; i++) params[i] += (float)(0.05 * ddpm_rng_normal(&r));
    ddpm_rng_normal_fill(&r, x, D);
    for (int b = 1; b < 6; b++) memcpy(x + b * D, x, sizeof(float) * D);
    int t[6] = {300, 300, 300, 300, 300, 300};
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, net, 6, true, &err) == 0, "%s", err.msg);
    ddpm_rng drop;
    ddpm_rng_init(&drop, 5, 0);
    ddpm_net_forward(net, params, ws, x, t, 6, &drop);
    memcpy(first, ddpm_net_output(ws), sizeof(float) * 6 * D);
    for (int a = 0; a < 6; a++)
        for (int b = a + 1; b < 6; b++)
            CHECK(memcmp(first + a * D, first + b * D, sizeof(float) * D) != 0,
                  "images %d and %d got the same dropout masks", a, b);
    ddpm_rng_init(&drop, 5, 0);
    ddpm_net_forward(net, params, ws, x, t, 6, &drop);
    CHECK(memcmp(first, ddpm_net_output(ws), sizeof(float) * 6 * D) == 0, "dropout does not repeat");
    ddpm_net_workspace_free(ws);
    ddpm_net_free(net);
    free(params), free(x), free(first);
    printf("dropout: a different mask for every image, repeatable\n");
}

int main(void)
{
    ddpm_blas_set_threads(1);
    check_presets_and_configs();
    check_mlp_configs();
    check_batch_independence("tiny", "up.0.res.1.conv1.weight");
    check_batch_independence("mlp", "blocks.1.fc1.weight");
    check_thread_count_invariance("tiny", 7, 3);
    /* the MLP's chunks are tens of points: 301 spans chunks and lanes unevenly */
    check_thread_count_invariance("mlp", 301, 5);
    check_dropout_streams();
    ddpm_net_config small_unet = {.arch = DDPM_ARCH_UNET,
                                  .unet = {.in_channels = 2, .out_channels = 2, .image_size = 8,
                                           .base_channels = 4, .levels = 2, .channel_mult = {1, 2},
                                           .res_blocks = 1, .attention = {false, true}, .mid_attention = true,
                                           .groups = 2, .time_embed_dim = 8, .dropout = 0.0f}};
    check_finite_differences("UNet", &small_unet);
    ddpm_net_config small_mlp = {.arch = DDPM_ARCH_MLP,
                                 .mlp = {.data_dim = 3, .hidden = 8, .blocks = 2, .time_embed_dim = 6, .norm = true,
                                         .fourier = 3}};
    check_finite_differences("MLP with LayerNorm", &small_mlp);
    small_mlp.mlp.norm = false;
    small_mlp.mlp.fourier = 0;
    check_finite_differences("MLP without norms and features", &small_mlp);
    check_parity("parity_gray.safetensors");
    check_parity("parity_rgb.safetensors");
    check_parity("parity_mlp.safetensors");
    TEST_PASS("test_net");
}
