/* net.c: the executor of every network: a list of layer operations over
 * numbered activation slots, built once from a config by an architecture's
 * builder (unet_build.c, mlp_build.c); forward runs the list, backward runs
 * it in reverse.  See ddpm/net.h.
 *
 * Activations are channels last, (B, H, W, C); every slot has a fixed size
 * per image and lives at a fixed offset in one arena sized for max_batch, so
 * a training step allocates nothing.
 *
 * Work is split over images.  Nothing in the network mixes images (GroupNorm
 * normalises per sample), so the forward pass runs small chunks of images on
 * the workspace's threads, each chunk through all the layers back to back
 * while its data are still in cache; a batch of a single chunk (the
 * visualizer's one image) instead splits each convolution over the threads.
 * Backward runs chunks too, into per-thread gradient buffers for the
 * activations, planned by liveness: a slot's gradient exists from its last
 * reader's backward to its producer's backward, so the buffer holds only
 * what is live at once and stays in cache.  The parameter gradients are
 * summed into LANES buffers, lane l owning a fixed range of images taken in
 * order, and the lanes are added into `grads` in lane order: the split
 * depends on the batch size alone, so the result is the same bit for bit at
 * any thread count.  Convolution weights are re-packed once per pass for the
 * kernels (an inference workspace keeps them while the weights stay the
 * same), and their gradients are summed in the packed layout and unpacked
 * once, in the final reduction.
 *
 * Three additions never get a pass of their own: a ResBlock's conv1 adds the
 * time embedding with its bias (a bias per image), the convs that close a
 * residual (conv2, the attention projection) add it as they store, and a
 * conv whose output only feeds a skip concatenation writes it straight into
 * the concatenation's first channels.  In backward, the first contribution
 * to an activation gradient is written rather than added to zeros. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/layers.h"
#include "ddpm/scheduler.h"
#include "ddpm/threads.h"
#include "net_internal.h"

/* Lanes of parameter gradients: the batch is cut into at most LANES ranges.
 * Within a pass, samples go through the layers a chunk at a time: enough for
 * the convolutions' tile blocks to span images and for the linears' products
 * to have rows (their weights, and in backward the weight-gradient
 * accumulators, then serve several samples per trip through the cache), few
 * enough for a chunk's activations to stay in L2/L3 from one layer to the
 * next: CHUNK_FLOATS of activations, at least MIN_CHUNK samples (the UNets'
 * images are far larger, so they take 4 forward and 8 backward; an MLP's
 * points take hundreds).  Forward chunks are half the backward's, so that a
 * batch of 16 images still splits over threads. */
enum { LANES = 4, MIN_CHUNK = 4, MAX_CHUNK = 256, CHUNK_FLOATS = 64 * 1024 };

typedef struct {
    float *scratch;          /* ddpm_net scratch_floats */
    float *grad;             /* activation gradients for one image */
} thread_ctx;

struct ddpm_net_workspace {
    const ddpm_net *net;
    int max_batch, B;
    bool training;
    bool dropout_on;         /* whether the last forward applied dropout */
    uint64_t dropout_key;    /* seeds every (layer, image) dropout stream */
    size_t *offsets;         /* per slot, in floats, into acts */
    size_t arena_floats;
    float *acts;
    float *wf, *wb;          /* packed conv and linear weights (wb: convs, training only) */
    float *wf_of;            /* inference: the conv weights wf was packed from */
    bool wf_valid;
    float *lanes;            /* (n_lanes, lane_floats), training only */
    int n_lanes;
    float *out_nchw;         /* (max_batch, out, S, S) when out_channels > 1 */
    int *t;                  /* (max_batch) timesteps of the last forward */
    float *embed;            /* (DDPM_T_MAX, embed dim) the sinusoidal embedding of each t, */
    bool *embed_ok;          /* (DDPM_T_MAX) filled when first needed: sines are a sixth of an MLP step */
    int threads;
    ddpm_pool *pool;
    thread_ctx *tc;          /* (threads) */
    size_t bytes;
    /* arguments of the pass in flight, read by the pool's tasks */
    const float *params;
    const float *x, *dout;   /* NCHW */
    float *grads, *dx;
};

/* A conv with in2 (a ResBlock's conv1) takes a bias per image: the time
 * embedding's projection, to which the forward adds the conv's own bias.
 * One with out_into writes its forward output into that concat slot. */
static ddpm_conv2d_dims conv_dims(const op *o, int B)
{
    ddpm_conv2d_dims d = {.B = B, .H = o->H, .W = o->W, .C_in = o->C, .C_out = o->C_out,
                          .kernel = o->kernel, .stride = o->stride, .pad = o->pad,
                          .bias_stride = o->in2 >= 0 ? o->C_out : 0,
                          .out_stride = o->out_into >= 0 ? o->out_stride : 0};
    return d;
}

/* Whether the backward of a reader of `s` writes a gradient into it: not for
 * saved statistics, nor for the sinusoidal embedding (nothing learns below
 * it).  The input image's gradient is planned but written only on request. */
static bool grad_slot(const ddpm_net *n, int s)
{
    return s >= 0 && !n->slots[s].aux && s != n->embed_slot;
}

/* First-fit placement of [off, off + size) among the live blocks. */
typedef struct {
    size_t off, size;
    int slot;
} block;

static size_t place(const block *live, int n_live, size_t size)
{
    /* candidates: 0 and the end of every live block; take the lowest that fits */
    size_t best = SIZE_MAX;
    for (int c = -1; c < n_live; c++) {
        const size_t cand = c < 0 ? 0 : live[c].off + live[c].size;
        bool fits = cand < best;
        for (int j = 0; j < n_live && fits; j++)
            fits = cand + size <= live[j].off || live[j].off + live[j].size <= cand;
        if (fits) best = cand;
    }
    return best;
}

/* The backward plan: liveness of each activation gradient and its place in
 * a per-image arena, laid out by first fit as the reverse pass goes. */
static void plan_gradients(ddpm_net *n)
{
    for (int i = 0; i < n->n_ops; i++) {
        const op *o = &n->ops[i];
        if (o->out >= 0) n->slots[o->out].producer = i;
        const int ins[3] = {o->in, o->in2, o->res};
        for (int j = 0; j < 3; j++)
            if (grad_slot(n, ins[j]) && i > n->slots[ins[j]].first_writer)
                n->slots[ins[j]].first_writer = i;
    }
    n->slots[n->output_slot].first_writer = n->n_ops; /* seeded before the reverse pass */
    block *live = ddpm_xcalloc((size_t)n->n_slots, sizeof *live);
    int n_live = 0;
    size_t peak = 0;
    for (int i = n->n_ops; i >= 0; i--) {
        for (int s = 0; s < n->n_slots; s++) {
            if (n->slots[s].first_writer != i) continue;
            size_t off = place(live, n_live, n->slots[s].per_image);
            n->slots[s].grad_off = (ptrdiff_t)off;
            live[n_live++] = (block){off, n->slots[s].per_image, s};
            if (off + n->slots[s].per_image > peak) peak = off + n->slots[s].per_image;
        }
        for (int j = 0; j < n_live;) { /* a gradient dies with its producer's backward */
            if (i < n->n_ops && n->slots[live[j].slot].producer == i) live[j] = live[--n_live];
            else j++;
        }
    }
    free(live);
    n->grad_per_image = peak;
}

/* Offsets of the packed conv and linear weights and of each tensor in a gradient lane,
 * and the per-thread scratch. */
static void plan_buffers(ddpm_net *n)
{
    int *conv_of = ddpm_xmalloc(sizeof(int) * (size_t)n->n_params);
    for (int i = 0; i < n->n_params; i++) conv_of[i] = -1;
    n->wf_floats = n->wb_floats = 0;
    n->scratch_floats = 1;
    for (int i = 0; i < n->n_ops; i++) {
        op *o = &n->ops[i];
        size_t s = 0;
        if (o->kind == OP_CONV) {
            ddpm_conv2d_dims d = conv_dims(o, 1);
            o->wf_off = n->wf_floats;
            o->wb_off = n->wb_floats;
            n->wf_floats += ddpm_conv2d_wf_floats(&d);
            n->wb_floats += ddpm_conv2d_wb_floats(&d);
            conv_of[o->w] = i;
            s = ddpm_conv2d_scratch_floats(&d);
        } else if (o->kind == OP_LINEAR) {
            o->wf_off = n->wf_floats;
            n->wf_floats += ddpm_linear_wf_floats(o->C, o->C_out);
        } else if (o->kind == OP_ATTENTION) {
            s = ddpm_attention_scratch_floats(o->C, o->H * o->W);
        }
        if (s > n->scratch_floats) n->scratch_floats = s;
    }
    n->lane_floats = 0;
    for (int i = 0; i < n->n_params; i++) {
        n->params[i].lane_off = n->lane_floats;
        if (conv_of[i] >= 0) {
            ddpm_conv2d_dims d = conv_dims(&n->ops[conv_of[i]], 1);
            n->lane_floats += ddpm_conv2d_dwf_floats(&d);
        } else {
            n->lane_floats += n->params[i].info.numel;
        }
    }
    free(conv_of);
}

static size_t arena_floats_for(const ddpm_net *n, int B);

/* The chunk sizes (see LANES) from the activations one sample needs. */
static void plan_chunks(ddpm_net *n)
{
    size_t fwd = CHUNK_FLOATS / arena_floats_for(n, 1);
    fwd = fwd < MIN_CHUNK ? MIN_CHUNK : fwd > MAX_CHUNK ? MAX_CHUNK : fwd;
    n->fwd_chunk = (int)fwd;
    n->bwd_chunk = 2 * n->fwd_chunk;
}

int ddpm_net_create(ddpm_net **out, const ddpm_net_config *cfg, ddpm_error *err)
{
    DDPM_ASSERT(out && cfg);
    *out = NULL;
    if (ddpm_net_config_validate(cfg, err) != DDPM_OK) return DDPM_ERR;
    ddpm_net *n = ddpm_xcalloc(1, sizeof *n);
    n->cfg = *cfg;
    n->embed_slot = -1;
    switch (cfg->arch) {
    case DDPM_ARCH_UNET: ddpm_unet_build(n, &cfg->unet); break;
    case DDPM_ARCH_MLP: ddpm_mlp_build(n, &cfg->mlp); break;
    case DDPM_ARCH_COUNT: DDPM_ASSERT(!"validated");
    }
    plan_chunks(n);
    plan_buffers(n);
    plan_gradients(n);
    *out = n;
    return DDPM_OK;
}

void ddpm_net_free(ddpm_net *n)
{
    if (!n) return;
    free(n->params);
    free(n->ops);
    free(n->slots);
    free(n);
}

const ddpm_net_config *ddpm_net_get_config(const ddpm_net *n) { return &n->cfg; }
size_t ddpm_net_num_params(const ddpm_net *n) { return n->total_params; }
int ddpm_net_num_tensors(const ddpm_net *n) { return n->n_params; }

const ddpm_param_info *ddpm_net_tensor(const ddpm_net *n, int i)
{
    DDPM_ASSERT(i >= 0 && i < n->n_params);
    return &n->params[i].info;
}

int ddpm_net_find_tensor(const ddpm_net *n, const char *name)
{
    for (int i = 0; i < n->n_params; i++)
        if (strcmp(n->params[i].info.name, name) == 0) return i;
    return -1;
}

void ddpm_net_init_params(const ddpm_net *n, float *params, uint64_t seed)
{
    for (int i = 0; i < n->n_params; i++) {
        const param_spec *spec = &n->params[i];
        const ddpm_param_info *p = &spec->info;
        float *w = params + p->offset;
        ddpm_rng rng;
        ddpm_rng_init(&rng, seed, ddpm_rng_stream(DDPM_STREAM_INIT, (uint64_t)i, 0));
        /* torch.nn.Conv2d / Linear reset_parameters: kaiming_uniform(a = sqrt(5))
         * gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, and the bias
         * uses the same bound. */
        double bound = spec->fan_in > 0 ? 1.0 / sqrt((double)spec->fan_in) : 0.0;
        for (size_t k = 0; k < p->numel; k++) {
            switch (spec->init) {
            case INIT_ZERO: w[k] = 0.0f; break;
            case INIT_ONE: w[k] = 1.0f; break;
            case INIT_FAN_IN: w[k] = (float)((2.0 * ddpm_rng_uniform(&rng) - 1.0) * bound); break;
            }
        }
    }
}

double ddpm_net_forward_flops(const ddpm_net *n)
{
    double flops = 0;
    for (int i = 0; i < n->n_ops; i++) {
        const op *o = &n->ops[i];
        if (o->kind == OP_CONV) {
            int Ho = (o->H + 2 * o->pad - o->kernel) / o->stride + 1;
            int Wo = (o->W + 2 * o->pad - o->kernel) / o->stride + 1;
            flops += 2.0 * o->C_out * Ho * Wo * o->C * o->kernel * o->kernel;
        } else if (o->kind == OP_LINEAR) {
            flops += 2.0 * o->C * o->C_out;
        } else if (o->kind == OP_ATTENTION) {
            double N = (double)o->H * o->W;
            flops += 2.0 * 2.0 * N * N * o->C; /* q^T k and v p^T */
        }
    }
    return flops;
}

/* ---- workspaces ------------------------------------------------------------ */

static int lanes_for(int B) { return B < LANES ? B : LANES; }
static int chunk_for(const ddpm_net *n, int B) { return B < n->bwd_chunk ? B : n->bwd_chunk; }

static size_t arena_floats_for(const ddpm_net *n, int B)
{
    size_t total = 0;
    for (int i = 0; i < n->n_slots; i++)
        if (!n->slots[i].no_act) total += n->slots[i].per_image * (size_t)B;
    return total;
}

static size_t out_nchw_floats(const ddpm_net *n, int B)
{
    /* channels last is channels first on 1x1 maps, and for one channel */
    return n->C_out > 1 && n->H * n->W > 1 ? n->slots[n->output_slot].per_image * (size_t)B : 0;
}

static size_t bytes_for(const ddpm_net *n, int B, bool training, int threads)
{
    size_t floats = arena_floats_for(n, B) + n->wf_floats + out_nchw_floats(n, B);
    if (!training) floats += n->total_params;
    floats += (size_t)threads * n->scratch_floats;
    if (training)
        floats += n->wb_floats + (size_t)lanes_for(B) * n->lane_floats +
                  (size_t)threads * n->grad_per_image * chunk_for(n, B);
    return floats * sizeof(float) + sizeof(int) * (size_t)B;
}

size_t ddpm_net_activation_bytes(const ddpm_net *n, int B)
{
    return arena_floats_for(n, B) * sizeof(float);
}

size_t ddpm_net_workspace_bytes_for(const ddpm_net *n, int B, bool training)
{
    return bytes_for(n, B, training, ddpm_get_threads());
}

int ddpm_net_workspace_create(ddpm_net_workspace **out, const ddpm_net *n, int max_batch,
                               bool training, ddpm_error *err)
{
    DDPM_ASSERT(out && n);
    *out = NULL;
    if (max_batch < 1 || max_batch > 4096)
        return ddpm_fail(err, "batch size %d is out of range; use 1..4096", max_batch);
    ddpm_net_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) return ddpm_fail(err, "out of memory");
    ws->net = n;
    ws->max_batch = max_batch;
    ws->training = training;
    ws->threads = ddpm_get_threads();
    ws->offsets = calloc((size_t)n->n_slots, sizeof(size_t));
    ws->t = calloc((size_t)max_batch, sizeof(int));
    const int edim = n->embed_slot >= 0 ? (int)n->slots[n->embed_slot].per_image : 0;
    ws->embed = edim ? malloc(sizeof(float) * (size_t)edim * DDPM_T_MAX) : NULL;
    ws->embed_ok = edim ? calloc(DDPM_T_MAX, sizeof(bool)) : NULL;
    size_t off = 0;
    for (int i = 0; ws->offsets && i < n->n_slots; i++) {
        ws->offsets[i] = off;
        if (!n->slots[i].no_act) off += n->slots[i].per_image * (size_t)max_batch;
    }
    ws->arena_floats = off;
    ws->acts = calloc(off, sizeof(float));
    ws->wf = malloc(sizeof(float) * n->wf_floats);
    if (!training) ws->wf_of = malloc(sizeof(float) * (n->total_params ? n->total_params : 1));
    size_t nchw = out_nchw_floats(n, max_batch);
    ws->out_nchw = nchw ? malloc(sizeof(float) * nchw) : NULL;
    bool ok = ws->offsets && ws->t && ws->acts && ws->wf && (!nchw || ws->out_nchw) && (!edim || (ws->embed && ws->embed_ok)) &&
              (training || ws->wf_of);
    if (training && ok) {
        ws->n_lanes = lanes_for(max_batch);
        ws->wb = malloc(sizeof(float) * n->wb_floats);
        ws->lanes = malloc(sizeof(float) * n->lane_floats * (size_t)ws->n_lanes);
        ok = ws->wb && ws->lanes;
    }
    ws->tc = ok ? calloc((size_t)ws->threads, sizeof *ws->tc) : NULL;
    ok = ok && ws->tc;
    for (int i = 0; ok && i < ws->threads; i++) {
        ws->tc[i].scratch = malloc(sizeof(float) * n->scratch_floats);
        ws->tc[i].grad = training ? malloc(sizeof(float) * (n->grad_per_image ? n->grad_per_image : 1) *
                                           (size_t)chunk_for(n, max_batch))
                                  : NULL;
        ok = ws->tc[i].scratch && (!training || ws->tc[i].grad);
    }
    if (ok && ws->threads > 1) {
        ws->pool = ddpm_pool_create(ws->threads);
        if (!ws->pool) {
            ddpm_net_workspace_free(ws);
            return ddpm_fail(err, "cannot start %d threads; use fewer --threads", ws->threads);
        }
    }
    if (!ok) {
        size_t mb = bytes_for(n, max_batch, training, ws->threads) >> 20;
        ddpm_net_workspace_free(ws);
        return ddpm_fail(err, "out of memory for a batch of %d (%zu MiB of activations); use a smaller --batch",
                         max_batch, mb);
    }
    ws->bytes = bytes_for(n, max_batch, training, ws->threads);
    *out = ws;
    return DDPM_OK;
}

void ddpm_net_workspace_limit_threads(ddpm_net_workspace *ws, int n) { ddpm_pool_limit(ws->pool, n); }

void ddpm_net_workspace_free(ddpm_net_workspace *ws)
{
    if (!ws) return;
    ddpm_pool_free(ws->pool);
    for (int i = 0; ws->tc && i < ws->threads; i++) {
        free(ws->tc[i].scratch);
        free(ws->tc[i].grad);
    }
    free(ws->tc);
    free(ws->offsets);
    free(ws->t);
    free(ws->embed);
    free(ws->embed_ok);
    free(ws->acts);
    free(ws->wf);
    free(ws->wf_of);
    free(ws->wb);
    free(ws->lanes);
    free(ws->out_nchw);
    free(ws);
}

int ddpm_net_workspace_max_batch(const ddpm_net_workspace *ws) { return ws->max_batch; }

size_t ddpm_net_workspace_bytes(const ddpm_net_workspace *ws) { return ws->bytes; }

/* ---- forward and backward ----------------------------------------------------- */

/* Slot s of images i0.. (channels last). */
#define ACT(s) (ws->acts + ws->offsets[(s)] + (size_t)i0 * n->slots[(s)].per_image)
#define PARAM(i) ((i) >= 0 ? ws->params + n->params[(i)].info.offset : NULL)

/* (B, C, HW) <-> (B, HW, C); a plain copy when C == 1. */
static void nchw_to_nhwc(float *dst, const float *src, int B, int C, int HW)
{
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++)
                dst[((size_t)b * HW + p) * C + c] = src[((size_t)b * C + c) * HW + p];
}

/* dst (B, C, HW) (+)= src (B, HW, C) */
static void nhwc_to_nchw(float *dst, const float *src, int B, int C, int HW, bool add)
{
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                float *d = &dst[((size_t)b * C + c) * HW + p];
                const float v = src[((size_t)b * HW + p) * C + c];
                *d = add ? *d + v : v;
            }
}

/* One part of a convolution split over the pool (see forward_images). */
typedef struct {
    ddpm_net_workspace *ws;
    float *out;
    const float *inp, *wf, *bias, *res;
    ddpm_conv2d_dims d;
} conv_split;

static void conv_part_task(void *ctx, int part, int thread)
{
    conv_split *c = ctx;
    ddpm_conv2d_forward_part(c->out, c->ws->tc[thread].scratch, c->inp, c->wf, c->bias, c->res, &c->d, part,
                             c->ws->threads);
}

/* The forward pass of images [i0, i0 + B), on one thread's scratch; with
 * split, each convolution is shared out over the pool's threads (for a batch
 * too small to split over images: the visualizer's single image). */
static void forward_images(ddpm_net_workspace *ws, int i0, int B, float *scratch, bool split)
{
    const ddpm_net *n = ws->net;
    const int HW_img = n->H * n->W;
    nchw_to_nhwc(ACT(n->input_slot), ws->x + (size_t)i0 * n->slots[n->input_slot].per_image, B,
                 n->C, HW_img);
    for (int i = 0; i < n->n_ops; i++) {
        const op *o = &n->ops[i];
        const int hw = o->H * o->W;
        const size_t len = (size_t)B * o->C * hw;
        switch (o->kind) {
        case OP_EMBED: /* the rows of the table, filled for these t before the pass */
            for (int b = 0; b < B; b++)
                memcpy(ACT(o->out) + (size_t)b * o->C, ws->embed + (size_t)ws->t[i0 + b] * o->C, sizeof(float) * o->C);
            break;
        case OP_CONV: {
            ddpm_conv2d_dims d = conv_dims(o, B);
            const float *bias = PARAM(o->b);
            if (o->in2 >= 0) { /* in2 (B, C_out) += bias, in place: in2 has no other reader */
                float *e = ACT(o->in2);
                for (int b = 0; b < B; b++)
                    for (int c = 0; c < o->C_out; c++) e[(size_t)b * o->C_out + c] += bias[c];
                bias = e;
            }
            const float *res = o->res >= 0 ? ACT(o->res) : NULL;
            float *out = o->out_into >= 0 ? ACT(o->out_into) : ACT(o->out);
            if (split) {
                conv_split c = {ws, out, ACT(o->in), ws->wf + o->wf_off, bias, res, d};
                ddpm_pool_run(ws->pool, ws->threads, conv_part_task, &c);
            } else {
                ddpm_conv2d_forward_part(out, scratch, ACT(o->in), ws->wf + o->wf_off, bias, res, &d, 0, 1);
            }
            break;
        }
        case OP_LINEAR:
            ddpm_linear_forward_packed(ACT(o->out), ACT(o->in), ws->wf + o->wf_off, PARAM(o->b),
                                       o->res >= 0 ? ACT(o->res) : NULL, B, o->C, o->C_out);
            break;
        case OP_GROUPNORM:
        case OP_GN_SILU: {
            /* aux holds mean (max_batch, G), then rstd (max_batch, G) */
            float *mean = ws->acts + ws->offsets[o->aux] + (size_t)i0 * o->groups;
            float *rstd = mean + (size_t)ws->max_batch * o->groups;
            if (o->kind == OP_GN_SILU)
                ddpm_groupnorm_silu_forward(ACT(o->out), mean, rstd, ACT(o->in), PARAM(o->w), PARAM(o->b),
                                            B, hw, o->C, o->groups, 1e-5f);
            else
                ddpm_groupnorm_forward(ACT(o->out), mean, rstd, ACT(o->in), PARAM(o->w), PARAM(o->b), B,
                                       hw, o->C, o->groups, 1e-5f);
            break;
        }
        case OP_SILU: ddpm_silu_forward(ACT(o->out), ACT(o->in), len); break;
        case OP_CONCAT:
            ddpm_concat_forward(ACT(o->out), o->in_place ? NULL : ACT(o->in), ACT(o->in2), (size_t)B * hw,
                                o->C, o->C2);
            break;
        case OP_UPSAMPLE: ddpm_upsample2x_forward(ACT(o->out), ACT(o->in), B, o->H, o->W, o->C); break;
        case OP_FOURIER: ddpm_fourier_forward(ACT(o->out), ACT(o->in), B, o->C, o->groups); break;
        case OP_ATTENTION: ddpm_attention_forward(ACT(o->out), ACT(o->aux), ACT(o->in), B, o->C, hw); break;
        case OP_DROPOUT: {
            /* the mask bytes of image b start at b * (C*H*W) */
            uint8_t *mask = (uint8_t *)(ws->acts + ws->offsets[o->aux]) + (size_t)i0 * o->C * hw;
            const size_t per = (size_t)o->C * hw;
            for (int b = 0; b < B; b++) {
                ddpm_rng rng;
                if (ws->dropout_on)
                    ddpm_rng_init(&rng, ws->dropout_key,
                                  ddpm_rng_stream(DDPM_STREAM_DROPOUT, (uint64_t)i, (uint64_t)(i0 + b)));
                ddpm_dropout_forward(ACT(o->out) + b * per, mask + b * per, ACT(o->in) + b * per,
                                     ws->dropout_on ? o->p : 0.0f, ws->dropout_on ? &rng : NULL, per);
            }
            break;
        }
        }
    }
    if (ws->out_nchw)
        nhwc_to_nchw(ws->out_nchw + (size_t)i0 * n->slots[n->output_slot].per_image,
                     ACT(n->output_slot), B, n->C_out, HW_img, false);
}

/* Task k: samples [k fwd_chunk, (k + 1) fwd_chunk).  An image's output does
 * not depend on the chunk it is in, so any split gives the same bits. */
static void forward_task(void *ctx, int k, int thread)
{
    ddpm_net_workspace *ws = ctx;
    const int chunk = ws->net->fwd_chunk, i0 = k * chunk, nb = ws->B - i0 < chunk ? ws->B - i0 : chunk;
    forward_images(ws, i0, nb, ws->tc[thread].scratch, false);
}

/* Packs one conv's or linear's weights.  An inference workspace (sampling runs the same
 * weights hundreds of times) keeps a copy of what it packed and skips the
 * packing when the weights are bit for bit the same: a compare costs a
 * fraction of the transform, and a changed weight is always seen. */
static void pack_wf_task(void *ctx, int i, int thread)
{
    ddpm_net_workspace *ws = ctx;
    const ddpm_net *n = ws->net;
    const op *o = &n->ops[i];
    (void)thread;
    if (o->kind != OP_CONV && o->kind != OP_LINEAR) return;
    const ddpm_param_info *w = &n->params[o->w].info;
    const float *weight = ws->params + w->offset;
    if (ws->wf_of) {
        float *seen = ws->wf_of + w->offset;
        if (ws->wf_valid && memcmp(seen, weight, sizeof(float) * w->numel) == 0) return;
        memcpy(seen, weight, sizeof(float) * w->numel);
    }
    if (o->kind == OP_LINEAR) {
        ddpm_linear_pack_wf(ws->wf + o->wf_off, weight, o->C, o->C_out);
        return;
    }
    ddpm_conv2d_dims d = conv_dims(o, 1);
    ddpm_conv2d_pack_wf(ws->wf + o->wf_off, weight, &d);
}

static void pack_wb_task(void *ctx, int i, int thread)
{
    ddpm_net_workspace *ws = ctx;
    const ddpm_net *n = ws->net;
    const op *o = &n->ops[i];
    (void)thread;
    if (o->kind != OP_CONV) return;
    ddpm_conv2d_dims d = conv_dims(o, 1);
    ddpm_conv2d_pack_wb(ws->wb + o->wb_off, PARAM(o->w), &d);
}

void ddpm_net_forward(const ddpm_net *n, const float *params, ddpm_net_workspace *ws,
                       const float *x, const int *t, int B, ddpm_rng *dropout_rng)
{
    DDPM_ASSERT(n && params && ws && ws->net == n && x && t);
    DDPM_ASSERT(B >= 1 && B <= ws->max_batch);
    ws->B = B;
    ws->dropout_on = dropout_rng != NULL;
    ws->dropout_key = dropout_rng ? ddpm_rng_u64(dropout_rng) : 0;
    ws->params = params;
    ws->x = x;
    memcpy(ws->t, t, sizeof(int) * (size_t)B);
    if (ws->embed) { /* each t's embedding once per workspace, here, before the threads read them */
        const int dim = (int)n->slots[n->embed_slot].per_image;
        for (int b = 0; b < B; b++) {
            DDPM_ASSERT(t[b] >= 0 && t[b] < DDPM_T_MAX);
            if (ws->embed_ok[t[b]]) continue;
            ddpm_timestep_embedding_forward(ws->embed + (size_t)t[b] * dim, t + b, 1, dim, 10000.0f);
            ws->embed_ok[t[b]] = true;
        }
    }
    ddpm_pool_run(ws->pool, n->n_ops, pack_wf_task, ws);
    ws->wf_valid = true;
    const int chunks = (B + n->fwd_chunk - 1) / n->fwd_chunk;
    if (chunks == 1 && ws->pool) /* one chunk: split its convolutions instead */
        forward_images(ws, 0, B, ws->tc[0].scratch, true);
    else
        ddpm_pool_run(ws->pool, chunks, forward_task, ws);
}

const float *ddpm_net_output(const ddpm_net_workspace *ws)
{
    return ws->out_nchw ? ws->out_nchw : ws->acts + ws->offsets[ws->net->output_slot];
}

/* The backward pass of images [i0, i0 + B) into one lane of parameter
 * gradients, with the thread's activation-gradient arena. */
static void backward_images(ddpm_net_workspace *ws, int i0, int B, thread_ctx *tc, float *lane)
{
    const ddpm_net *n = ws->net;
    const int HW_img = n->H * n->W;
#define GRAD(s) (tc->grad + (size_t)n->slots[(s)].grad_off * (size_t)B)
#define LANE(i) ((i) >= 0 ? lane + n->params[(i)].lane_off : NULL)
    nchw_to_nhwc(GRAD(n->output_slot), ws->dout + (size_t)i0 * n->slots[n->output_slot].per_image, B,
                 n->C_out, HW_img);
    for (int i = n->n_ops - 1; i >= 0; i--) {
        const op *o = &n->ops[i];
        const int hw = o->H * o->W;
        const size_t len = (size_t)B * o->C * hw;
        /* a gradient starts at zero when its last reader (the first backward
         * to write it) comes up */
        const int ins[3] = {o->in, o->in2, o->res};
        bool fresh[3]; /* the first contribution: written, not added, where the op can */
        for (int j = 0; j < 3; j++) {
            bool seen = false;
            for (int k = 0; k < j; k++) seen = seen || ins[k] == ins[j];
            fresh[j] = ins[j] >= 0 && !seen && n->slots[ins[j]].first_writer == i;
            const bool writes = (j == 0 && (o->kind == OP_CONV || o->kind == OP_GROUPNORM ||
                                            o->kind == OP_GN_SILU || o->kind == OP_CONCAT)) ||
                                (j == 1 && o->kind == OP_CONCAT) || j == 2;
            if (fresh[j] && !writes)
                memset(GRAD(ins[j]), 0, sizeof(float) * n->slots[ins[j]].per_image * (size_t)B);
        }
        float *din = grad_slot(n, o->in) && (o->in != n->input_slot || ws->dx) ? GRAD(o->in) : NULL;
        float *din2 = grad_slot(n, o->in2) ? GRAD(o->in2) : NULL;
        float *dout = o->out >= 0 && n->slots[o->out].grad_off >= 0 ? GRAD(o->out) : NULL;
        switch (o->kind) {
        case OP_EMBED: break; /* integer input: nothing to propagate */
        case OP_CONV: {
            ddpm_conv2d_dims d = conv_dims(o, B);
            d.assign_dinp = fresh[0];
            /* with a bias per image, its gradient is in2's, and the conv's
             * own bias gets their sum */
            ddpm_conv2d_backward(din, LANE(o->w), o->in2 >= 0 ? din2 : LANE(o->b), tc->scratch, dout,
                                 ACT(o->in), ws->wb + o->wb_off, &d);
            if (o->in2 >= 0) {
                float *db = LANE(o->b);
                for (int b = 0; b < B; b++)
                    for (int c = 0; c < o->C_out; c++) db[c] += din2[(size_t)b * o->C_out + c];
            }
            break;
        }
        case OP_LINEAR:
            ddpm_linear_backward(din, LANE(o->w), LANE(o->b), dout, ACT(o->in), PARAM(o->w), B, o->C,
                                 o->C_out);
            break;
        case OP_GROUPNORM:
        case OP_GN_SILU: {
            const float *mean = ws->acts + ws->offsets[o->aux] + (size_t)i0 * o->groups;
            const float *rstd = mean + (size_t)ws->max_batch * o->groups;
            if (o->kind == OP_GN_SILU)
                ddpm_groupnorm_silu_backward(din, LANE(o->w), LANE(o->b), dout, ACT(o->in), mean, rstd,
                                             PARAM(o->w), PARAM(o->b), B, hw, o->C, o->groups, fresh[0]);
            else
                ddpm_groupnorm_backward(din, LANE(o->w), LANE(o->b), dout, ACT(o->in), mean, rstd,
                                        PARAM(o->w), B, hw, o->C, o->groups, fresh[0]);
            break;
        }
        case OP_SILU: ddpm_silu_backward(din, dout, ACT(o->in), len); break;
        case OP_CONCAT:
            ddpm_concat_backward(din, din2, dout, (size_t)B * hw, o->C, o->C2, fresh[0], fresh[1]);
            break;
        case OP_UPSAMPLE: ddpm_upsample2x_backward(din, dout, B, o->H, o->W, o->C); break;
        case OP_FOURIER:
            if (din) ddpm_fourier_backward(din, dout, ACT(o->in), B, o->C, o->groups);
            break;
        case OP_ATTENTION:
            ddpm_attention_backward(din, tc->scratch, dout, ACT(o->in), ACT(o->aux), B, o->C, hw);
            break;
        case OP_DROPOUT: {
            const uint8_t *mask = (const uint8_t *)(ws->acts + ws->offsets[o->aux]) + (size_t)i0 * o->C * hw;
            ddpm_dropout_backward(din, dout, mask, ws->dropout_on ? o->p : 0.0f, len);
            break;
        }
        }
        if (o->res >= 0 && grad_slot(n, o->res)) { /* the residual's gradient is out's */
            const size_t len_out = n->slots[o->out].per_image * (size_t)B;
            if (fresh[2]) memcpy(GRAD(o->res), dout, sizeof(float) * len_out);
            else ddpm_add_backward(GRAD(o->res), NULL, dout, len_out);
        }
    }
    if (ws->dx)
        nhwc_to_nchw(ws->dx + (size_t)i0 * n->slots[n->input_slot].per_image, GRAD(n->input_slot), B,
                     n->C, HW_img, true);
#undef GRAD
#undef LANE
}

/* Lane l owns samples [B*l/L, B*(l+1)/L), taken bwd_chunk at a time in
 * order: the split depends on B alone. */
static void backward_task(void *ctx, int l, int thread)
{
    ddpm_net_workspace *ws = ctx;
    const ddpm_net *n = ws->net;
    const int L = lanes_for(ws->B), end = ws->B * (l + 1) / L;
    float *lane = ws->lanes + (size_t)l * n->lane_floats;
    memset(lane, 0, sizeof(float) * n->lane_floats);
    const int chunk = n->bwd_chunk;
    for (int b = ws->B * l / L; b < end; b += chunk)
        backward_images(ws, b, end - b < chunk ? end - b : chunk, &ws->tc[thread], lane);
}

/* grads += lane 0 + lane 1 + ..., tensor by tensor, in lane order. */
static void reduce_task(void *ctx, int i, int thread)
{
    ddpm_net_workspace *ws = ctx;
    const ddpm_net *n = ws->net;
    const param_spec *p = &n->params[i];
    const int L = lanes_for(ws->B);
    float *g = ws->grads + p->info.offset;
    (void)thread;
    const op *conv = NULL;
    for (int k = 0; k < n->n_ops && !conv; k++)
        if (n->ops[k].kind == OP_CONV && n->ops[k].w == i) conv = &n->ops[k];
    /* the lanes are summed into lane 0 in their packed layout, in lane
     * order, and a conv's sum is unpacked (a Winograd inverse transform)
     * once instead of once per lane */
    const ddpm_conv2d_dims d = conv ? conv_dims(conv, 1) : (ddpm_conv2d_dims){0};
    const size_t len = conv ? ddpm_conv2d_dwf_floats(&d) : p->info.numel;
    float *sum = ws->lanes + p->lane_off;
    for (size_t k0 = 0; k0 < len; k0 += 1024) { /* a block at a time: one pass over memory */
        const size_t m = len - k0 < 1024 ? len - k0 : 1024;
        for (int l = 1; l < L; l++)
            ddpm_add_backward(sum + k0, NULL, ws->lanes + (size_t)l * n->lane_floats + p->lane_off + k0, m);
    }
    if (conv) ddpm_conv2d_unpack_grad(g, sum, &d);
    else ddpm_add_backward(g, NULL, sum, len);
}

void ddpm_net_backward(const ddpm_net *n, const float *params, float *grads,
                        ddpm_net_workspace *ws, const float *dout, float *dx)
{
    DDPM_ASSERT(n && params && grads && ws && ws->net == n && ws->training && dout);
    DDPM_ASSERT(ws->B >= 1);
    ws->params = params;
    ws->grads = grads;
    ws->dout = dout;
    ws->dx = dx;
    ddpm_pool_run(ws->pool, n->n_ops, pack_wb_task, ws);
    ddpm_pool_run(ws->pool, lanes_for(ws->B), backward_task, ws);
    ddpm_pool_run(ws->pool, n->n_params, reduce_task, ws);
    ws->dx = NULL;
}

int ddpm_net_denoise(void *ctx, const float *x, const int *t, int B, float *out, ddpm_error *err)
{
    ddpm_net_denoiser *d = ctx;
    DDPM_ASSERT(d && d->net && d->weights && d->ws);
    const size_t per_image = d->net->slots[d->net->input_slot].per_image;
    for (int b0 = 0; b0 < B; b0 += d->ws->max_batch) {
        int nb = B - b0 < d->ws->max_batch ? B - b0 : d->ws->max_batch;
        ddpm_net_forward(d->net, d->weights, d->ws, x + (size_t)b0 * per_image, t + b0, nb, NULL);
        memcpy(out + (size_t)b0 * per_image, ddpm_net_output(d->ws), sizeof(float) * per_image * (size_t)nb);
    }
    (void)err;
    return DDPM_OK;
}
