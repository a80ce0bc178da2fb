/* unet.c: the UNet as a list of layer operations over numbered activation
 * slots, built once from a config; forward runs the list, backward runs it
 * in reverse.  See ddpm/unet.h for the architecture.
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
#include "ddpm/threads.h"
#include "ddpm/unet.h"

typedef enum {
    OP_EMBED,       /* sinusoidal timestep embedding of ws->t */
    OP_CONV,
    OP_LINEAR,
    OP_GROUPNORM,
    OP_GN_SILU,     /* GroupNorm then SiLU, fused */
    OP_SILU,
    OP_CONCAT,
    OP_UPSAMPLE,
    OP_ATTENTION,   /* in = qkv (N, 3C) */
    OP_DROPOUT,
} op_kind;

typedef struct {
    op_kind kind;
    int in, in2, out, aux;   /* slots; aux = saved statistics / probs / mask */
    int res;                 /* conv: a slot added to the output as it is stored, or -1 */
    int out_into;            /* conv: forward writes into this (concat) slot instead of out, */
    int out_stride;          /* with this many floats a pixel; -1 / 0 without */
    bool in_place;           /* concat: its first input is written in place by its producer */
    int w, b;                /* parameter tensor indices, -1 if none */
    int C, H, W;             /* per-image input shape */
    int C2;                  /* second input's channels (concat) */
    int C_out, kernel, stride, pad, groups;
    float p;                 /* dropout probability */
    size_t wf_off, wb_off;   /* conv: packed weights in ws->wf / ws->wb */
} op;

typedef struct {
    size_t per_image;        /* floats per image */
    bool aux;                /* saved statistics: no gradient */
    bool no_act;             /* written in place into a concat: no activation memory */
    /* backward plan: the gradient is live from the backward of op
     * first_writer down to that of op producer; grad_off is its place in
     * the per-image gradient plan (-1: never needs one) */
    int producer, first_writer;
    ptrdiff_t grad_off;
} slot;

/* How a parameter tensor is initialised. */
typedef enum { INIT_FAN_IN, INIT_ZERO, INIT_ONE } init_kind;

typedef struct {
    ddpm_param_info info;
    init_kind init;
    int fan_in;
    size_t lane_off;         /* gradient lanes: offset; conv weights are packed */
} param_spec;

struct ddpm_unet {
    ddpm_unet_config cfg;
    param_spec *params;
    int n_params, cap_params;
    size_t total_params;
    op *ops;
    int n_ops, cap_ops;
    slot *slots;
    int n_slots, cap_slots;
    int input_slot, output_slot, embed_slot;
    size_t wf_floats, wb_floats;  /* all conv weights, packed */
    size_t lane_floats;           /* one gradient lane */
    size_t grad_per_image;        /* the gradient plan's peak, floats per image */
    size_t scratch_floats;        /* per thread, for any op */
};

/* Lanes of parameter gradients: the batch is cut into at most LANES ranges.
 * Within a pass, images go through the layers a chunk at a time: enough for
 * the convolutions' tile blocks to span images (their weights, and in
 * backward the weight-gradient accumulators, then serve several images per
 * trip through the cache), few enough for a chunk's activations to stay in
 * L2/L3 from one layer to the next.  Forward chunks are smaller, so that a
 * batch of 16 still splits over threads. */
enum { LANES = 4, FWD_CHUNK = 4, BWD_CHUNK = 8 };

typedef struct {
    float *scratch;          /* ddpm_unet scratch_floats */
    float *grad;             /* activation gradients for one image */
} thread_ctx;

struct ddpm_unet_workspace {
    const ddpm_unet *net;
    int max_batch, B;
    bool training;
    bool dropout_on;         /* whether the last forward applied dropout */
    uint64_t dropout_key;    /* seeds every (layer, image) dropout stream */
    size_t *offsets;         /* per slot, in floats, into acts */
    size_t arena_floats;
    float *acts;
    float *wf, *wb;          /* packed conv weights (wb: training only) */
    float *wf_of;            /* inference: the conv weights wf was packed from */
    bool wf_valid;
    float *lanes;            /* (n_lanes, lane_floats), training only */
    int n_lanes;
    float *out_nchw;         /* (max_batch, out, S, S) when out_channels > 1 */
    int *t;                  /* (max_batch) timesteps of the last forward */
    int threads;
    ddpm_pool *pool;
    thread_ctx *tc;          /* (threads) */
    size_t bytes;
    /* arguments of the pass in flight, read by the pool's tasks */
    const float *params;
    const float *x, *dout;   /* NCHW */
    float *grads, *dx;
};

/* ---- building ------------------------------------------------------------ */

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? 2 * (cap) : 64;                                 \
            void *p_ = realloc((arr), sizeof(*(arr)) * (size_t)(cap));      \
            DDPM_ASSERT(p_);                                                \
            (arr) = p_;                                                     \
        }                                                                   \
    } while (0)

static int new_slot(ddpm_unet *n, size_t per_image)
{
    GROW(n->slots, n->n_slots, n->cap_slots);
    slot *sl = &n->slots[n->n_slots];
    memset(sl, 0, sizeof *sl);
    sl->per_image = per_image;
    sl->producer = sl->first_writer = -1;
    sl->grad_off = -1;
    return n->n_slots++;
}

static int new_aux_slot(ddpm_unet *n, size_t per_image)
{
    int s = new_slot(n, per_image);
    n->slots[s].aux = true;
    return s;
}

static int new_param(ddpm_unet *n, const char *prefix, const char *suffix, int ndim,
                     const int *shape, init_kind init, int fan_in)
{
    GROW(n->params, n->n_params, n->cap_params);
    param_spec *spec = &n->params[n->n_params];
    memset(spec, 0, sizeof *spec);
    spec->init = init;
    spec->fan_in = fan_in;
    ddpm_param_info *p = &spec->info;
    snprintf(p->name, sizeof p->name, "%s.%s", prefix, suffix);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->offset = n->total_params;
    n->total_params += p->numel;
    return n->n_params++;
}

static op *new_op(ddpm_unet *n, op_kind kind)
{
    GROW(n->ops, n->n_ops, n->cap_ops);
    op *o = &n->ops[n->n_ops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->in = o->in2 = o->out = o->aux = o->w = o->b = o->res = o->out_into = -1;
    return o;
}

/* A feature map flowing through the builder: slot plus shape. */
typedef struct {
    int slot, C, H, W;
} fmap;

static fmap conv(ddpm_unet *n, fmap x, int C_out, int kernel, int stride, const char *name,
                 bool zero_init)
{
    op *o = new_op(n, OP_CONV);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->C_out = C_out, o->kernel = kernel, o->stride = stride, o->pad = kernel / 2;
    int fan_in = x.C * kernel * kernel;
    int wshape[4] = {C_out, x.C, kernel, kernel}, bshape[1] = {C_out};
    o->w = new_param(n, name, "weight", 4, wshape, zero_init ? INIT_ZERO : INIT_FAN_IN, fan_in);
    o->b = new_param(n, name, "bias", 1, bshape, zero_init ? INIT_ZERO : INIT_FAN_IN, fan_in);
    int Ho = (x.H + 2 * o->pad - kernel) / stride + 1, Wo = (x.W + 2 * o->pad - kernel) / stride + 1;
    o->out = new_slot(n, (size_t)C_out * Ho * Wo);
    return (fmap){o->out, C_out, Ho, Wo};
}

static fmap linear(ddpm_unet *n, fmap x, int out_features, const char *name)
{
    op *o = new_op(n, OP_LINEAR);
    o->in = x.slot;
    o->C = x.C, o->H = o->W = 1;
    o->C_out = out_features;
    int wshape[2] = {out_features, x.C}, bshape[1] = {out_features};
    o->w = new_param(n, name, "weight", 2, wshape, INIT_FAN_IN, x.C);
    o->b = new_param(n, name, "bias", 1, bshape, INIT_FAN_IN, x.C);
    o->out = new_slot(n, (size_t)out_features);
    return (fmap){o->out, out_features, 1, 1};
}

static fmap groupnorm_op(ddpm_unet *n, fmap x, const char *name, op_kind kind)
{
    op *o = new_op(n, kind);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->groups = n->cfg.groups;
    int shape[1] = {x.C};
    o->w = new_param(n, name, "weight", 1, shape, INIT_ONE, 0);
    o->b = new_param(n, name, "bias", 1, shape, INIT_ZERO, 0);
    o->aux = new_aux_slot(n, 2 * (size_t)o->groups); /* mean (B,G), then rstd (B,G) */
    o->out = new_slot(n, (size_t)x.C * x.H * x.W);
    return (fmap){o->out, x.C, x.H, x.W};
}

static fmap groupnorm(ddpm_unet *n, fmap x, const char *name)
{
    return groupnorm_op(n, x, name, OP_GROUPNORM);
}

/* SiLU(GroupNorm(x)), the pair that opens every ResBlock half and the head */
static fmap groupnorm_silu(ddpm_unet *n, fmap x, const char *name)
{
    return groupnorm_op(n, x, name, OP_GN_SILU);
}

static fmap unary(ddpm_unet *n, op_kind kind, fmap x)
{
    op *o = new_op(n, kind);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->out = new_slot(n, (size_t)x.C * x.H * x.W);
    return (fmap){o->out, x.C, x.H, x.W};
}

static fmap dropout(ddpm_unet *n, fmap x, float p)
{
    fmap y = unary(n, OP_DROPOUT, x);
    op *o = &n->ops[n->n_ops - 1];
    o->p = p;
    /* the byte mask is stored in a float slot: a quarter of the floats */
    o->aux = new_aux_slot(n, ((size_t)x.C * x.H * x.W + 3) / 4);
    return y;
}

static fmap binary(ddpm_unet *n, op_kind kind, fmap a, fmap b)
{
    op *o = new_op(n, kind);
    o->in = a.slot, o->in2 = b.slot;
    o->C = a.C, o->H = a.H, o->W = a.W, o->C2 = b.C;
    int C_out = kind == OP_CONCAT ? a.C + b.C : a.C;
    if (kind == OP_CONCAT) DDPM_ASSERT(a.H == b.H && a.W == b.W);
    o->out = new_slot(n, (size_t)C_out * a.H * a.W);
    return (fmap){o->out, C_out, a.H, a.W};
}

static fmap upsample(ddpm_unet *n, fmap x)
{
    op *o = new_op(n, OP_UPSAMPLE);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->out = new_slot(n, (size_t)x.C * 4 * x.H * x.W);
    return (fmap){o->out, x.C, 2 * x.H, 2 * x.W};
}

/* Swaps the last two ops, which must not depend on each other: an op that
 * another one feeds is created first, so that the parameters keep the order
 * of the checkpoint's layers, and moved after it here. */
static void swap_last_ops(ddpm_unet *n)
{
    DDPM_ASSERT(n->n_ops >= 2);
    op tmp = n->ops[n->n_ops - 2];
    n->ops[n->n_ops - 2] = n->ops[n->n_ops - 1];
    n->ops[n->n_ops - 1] = tmp;
}

/* ResBlock (Ho et al. 2020 appendix B; Wide ResNet with GroupNorm):
 * h = conv1(SiLU(GN1(x))) + temb_proj(SiLU(temb)); h = conv2(drop(SiLU(GN2(h))));
 * out = skip(x) + h, where skip is a 1x1 conv when the channels change. */
static fmap resblock(ddpm_unet *n, fmap x, fmap silu_temb, int C_out, const char *name)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%s.norm1", name);
    fmap h = groupnorm_silu(n, x, nm);
    snprintf(nm, sizeof nm, "%s.conv1", name);
    h = conv(n, h, C_out, 3, 1, nm, false);
    snprintf(nm, sizeof nm, "%s.temb_proj", name);
    fmap e = linear(n, silu_temb, C_out, nm);
    /* The projection runs first, and conv1 adds it to its bias, image by
     * image (no pass of its own over h). */
    swap_last_ops(n);
    n->ops[n->n_ops - 1].in2 = e.slot;
    snprintf(nm, sizeof nm, "%s.norm2", name);
    h = groupnorm_silu(n, h, nm);
    if (n->cfg.dropout > 0.0f) h = dropout(n, h, n->cfg.dropout);
    snprintf(nm, sizeof nm, "%s.conv2", name);
    h = conv(n, h, C_out, 3, 1, nm, true);
    int conv2 = n->n_ops - 1;
    fmap skip = x;
    if (x.C != C_out) { /* the skip conv runs first (swapped, as above) */
        snprintf(nm, sizeof nm, "%s.skip", name);
        skip = conv(n, x, C_out, 1, 1, nm, false);
        swap_last_ops(n);
        conv2++;
    }
    /* out = skip + conv2(h): conv2 adds the residual as it stores */
    n->ops[conv2].res = skip.slot;
    return h;
}

/* Single-head self-attention block: x + proj(attn(qkv(GN(x)))). */
static fmap attention_block(ddpm_unet *n, fmap x, const char *name)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%s.norm", name);
    fmap h = groupnorm(n, x, nm);
    snprintf(nm, sizeof nm, "%s.qkv", name);
    h = conv(n, h, 3 * x.C, 1, 1, nm, false);
    op *o = new_op(n, OP_ATTENTION);
    o->in = h.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    int N = x.H * x.W;
    o->aux = new_aux_slot(n, (size_t)N * N);
    o->out = new_slot(n, (size_t)x.C * N);
    h = (fmap){o->out, x.C, x.H, x.W};
    snprintf(nm, sizeof nm, "%s.proj", name);
    h = conv(n, h, x.C, 1, 1, nm, true);
    n->ops[n->n_ops - 1].res = x.slot; /* x + proj(...), added as proj stores */
    return h;
}

/* A concat whose first input comes from a conv and goes nowhere else gets
 * it in place: the conv writes its output into the concat's first channels
 * (a pixel stride of both widths), and the concat copies only the second
 * input.  The gradients stay as they are (the concat's backward writes the
 * conv's dout). */
static void concat_in_place(ddpm_unet *n)
{
    for (int i = 0; i < n->n_ops; i++) {
        op *c = &n->ops[i];
        if (c->kind != OP_CONCAT || c->in == c->in2) continue;
        int readers = 0;
        op *producer = NULL;
        for (int j = 0; j < n->n_ops; j++) {
            const op *o = &n->ops[j];
            readers += (o->in == c->in) + (o->in2 == c->in) + (o->res == c->in);
            if (o->out == c->in) producer = &n->ops[j];
        }
        if (readers != 1 || !producer || producer->kind != OP_CONV || producer->out_into >= 0) continue;
        producer->out_into = c->out;
        producer->out_stride = c->C + c->C2;
        c->in_place = true;
        n->slots[c->in].no_act = true; /* its values live in the concat */
    }
}

static void build(ddpm_unet *n)
{
    const ddpm_unet_config *c = &n->cfg;
    const int S = c->image_size;
    char nm[96];

    n->input_slot = new_slot(n, (size_t)c->in_channels * S * S);
    fmap x = {n->input_slot, c->in_channels, S, S};

    /* time embedding: sinusoidal(base) -> Linear -> SiLU -> Linear, then the
     * SiLU every ResBlock applies before its projection, computed once */
    op *e = new_op(n, OP_EMBED);
    e->C = c->base_channels;
    e->out = n->embed_slot = new_slot(n, (size_t)c->base_channels);
    fmap temb = {e->out, c->base_channels, 1, 1};
    temb = linear(n, temb, c->time_embed_dim, "time_embed.0");
    temb = unary(n, OP_SILU, temb);
    temb = linear(n, temb, c->time_embed_dim, "time_embed.2");
    fmap silu_temb = unary(n, OP_SILU, temb);

    fmap h = conv(n, x, c->base_channels, 3, 1, "conv_in", false);
    fmap skips[64];
    int n_skips = 0;
    skips[n_skips++] = h;
    for (int l = 0; l < c->levels; l++) {
        int ch = c->base_channels * c->channel_mult[l];
        for (int r = 0; r < c->res_blocks; r++) {
            snprintf(nm, sizeof nm, "down.%d.res.%d", l, r);
            h = resblock(n, h, silu_temb, ch, nm);
            if (c->attention[l]) {
                snprintf(nm, sizeof nm, "down.%d.attn.%d", l, r);
                h = attention_block(n, h, nm);
            }
            skips[n_skips++] = h;
        }
        if (l + 1 < c->levels) {
            snprintf(nm, sizeof nm, "down.%d.downsample", l);
            h = conv(n, h, ch, 3, 2, nm, false);
            skips[n_skips++] = h;
        }
    }
    h = resblock(n, h, silu_temb, h.C, "mid.res1");
    if (c->mid_attention) h = attention_block(n, h, "mid.attn");
    h = resblock(n, h, silu_temb, h.C, "mid.res2");
    for (int l = c->levels - 1; l >= 0; l--) {
        int ch = c->base_channels * c->channel_mult[l];
        for (int r = 0; r <= c->res_blocks; r++) {
            DDPM_ASSERT(n_skips > 0);
            h = binary(n, OP_CONCAT, h, skips[--n_skips]);
            snprintf(nm, sizeof nm, "up.%d.res.%d", l, r);
            h = resblock(n, h, silu_temb, ch, nm);
            if (c->attention[l]) {
                snprintf(nm, sizeof nm, "up.%d.attn.%d", l, r);
                h = attention_block(n, h, nm);
            }
        }
        if (l > 0) {
            h = upsample(n, h);
            snprintf(nm, sizeof nm, "up.%d.upsample", l);
            h = conv(n, h, ch, 3, 1, nm, false);
        }
    }
    DDPM_ASSERT(n_skips == 0);
    h = groupnorm_silu(n, h, "norm_out");
    h = conv(n, h, c->out_channels, 3, 1, "conv_out", true);
    n->output_slot = h.slot;
    concat_in_place(n);
}

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
static bool grad_slot(const ddpm_unet *n, int s)
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
static void plan_gradients(ddpm_unet *n)
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

/* Offsets of the packed conv weights and of each tensor in a gradient lane,
 * and the per-thread scratch. */
static void plan_buffers(ddpm_unet *n)
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

int ddpm_unet_create(ddpm_unet **out, const ddpm_unet_config *cfg, ddpm_error *err)
{
    DDPM_ASSERT(out && cfg);
    *out = NULL;
    if (ddpm_unet_config_validate(cfg, err) != DDPM_OK) return DDPM_ERR;
    ddpm_unet *n = ddpm_xcalloc(1, sizeof *n);
    n->cfg = *cfg;
    build(n);
    plan_buffers(n);
    plan_gradients(n);
    *out = n;
    return DDPM_OK;
}

void ddpm_unet_free(ddpm_unet *n)
{
    if (!n) return;
    free(n->params);
    free(n->ops);
    free(n->slots);
    free(n);
}

const ddpm_unet_config *ddpm_unet_get_config(const ddpm_unet *n) { return &n->cfg; }
size_t ddpm_unet_num_params(const ddpm_unet *n) { return n->total_params; }
int ddpm_unet_num_tensors(const ddpm_unet *n) { return n->n_params; }

const ddpm_param_info *ddpm_unet_tensor(const ddpm_unet *n, int i)
{
    DDPM_ASSERT(i >= 0 && i < n->n_params);
    return &n->params[i].info;
}

int ddpm_unet_find_tensor(const ddpm_unet *n, const char *name)
{
    for (int i = 0; i < n->n_params; i++)
        if (strcmp(n->params[i].info.name, name) == 0) return i;
    return -1;
}

void ddpm_unet_init_params(const ddpm_unet *n, float *params, uint64_t seed)
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

double ddpm_unet_forward_flops(const ddpm_unet *n)
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
static int chunk_for(int B) { return B < BWD_CHUNK ? B : BWD_CHUNK; }

static size_t arena_floats_for(const ddpm_unet *n, int B)
{
    size_t total = 0;
    for (int i = 0; i < n->n_slots; i++)
        if (!n->slots[i].no_act) total += n->slots[i].per_image * (size_t)B;
    return total;
}

static size_t out_nchw_floats(const ddpm_unet *n, int B)
{
    return n->cfg.out_channels > 1 ? n->slots[n->output_slot].per_image * (size_t)B : 0;
}

static size_t bytes_for(const ddpm_unet *n, int B, bool training, int threads)
{
    size_t floats = arena_floats_for(n, B) + n->wf_floats + out_nchw_floats(n, B);
    if (!training) floats += n->total_params;
    floats += (size_t)threads * n->scratch_floats;
    if (training)
        floats += n->wb_floats + (size_t)lanes_for(B) * n->lane_floats +
                  (size_t)threads * n->grad_per_image * chunk_for(B);
    return floats * sizeof(float) + sizeof(int) * (size_t)B;
}

size_t ddpm_unet_activation_bytes(const ddpm_unet *n, int B)
{
    return arena_floats_for(n, B) * sizeof(float);
}

size_t ddpm_unet_workspace_bytes_for(const ddpm_unet *n, int B, bool training)
{
    return bytes_for(n, B, training, ddpm_get_threads());
}

int ddpm_unet_workspace_create(ddpm_unet_workspace **out, const ddpm_unet *n, int max_batch,
                               bool training, ddpm_error *err)
{
    DDPM_ASSERT(out && n);
    *out = NULL;
    if (max_batch < 1 || max_batch > 4096)
        return ddpm_fail(err, "batch size %d is out of range; use 1..4096", max_batch);
    ddpm_unet_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) return ddpm_fail(err, "out of memory");
    ws->net = n;
    ws->max_batch = max_batch;
    ws->training = training;
    ws->threads = ddpm_get_threads();
    ws->offsets = calloc((size_t)n->n_slots, sizeof(size_t));
    ws->t = calloc((size_t)max_batch, sizeof(int));
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
    bool ok = ws->offsets && ws->t && ws->acts && ws->wf && (!nchw || ws->out_nchw) &&
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
                                           (size_t)chunk_for(max_batch))
                                  : NULL;
        ok = ws->tc[i].scratch && (!training || ws->tc[i].grad);
    }
    if (ok && ws->threads > 1) {
        ws->pool = ddpm_pool_create(ws->threads);
        if (!ws->pool) {
            ddpm_unet_workspace_free(ws);
            return ddpm_fail(err, "cannot start %d threads; use fewer --threads", ws->threads);
        }
    }
    if (!ok) {
        size_t mb = bytes_for(n, max_batch, training, ws->threads) >> 20;
        ddpm_unet_workspace_free(ws);
        return ddpm_fail(err, "out of memory for a batch of %d (%zu MiB of activations); use a smaller --batch",
                         max_batch, mb);
    }
    ws->bytes = bytes_for(n, max_batch, training, ws->threads);
    *out = ws;
    return DDPM_OK;
}

void ddpm_unet_workspace_free(ddpm_unet_workspace *ws)
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
    free(ws->acts);
    free(ws->wf);
    free(ws->wf_of);
    free(ws->wb);
    free(ws->lanes);
    free(ws->out_nchw);
    free(ws);
}

int ddpm_unet_workspace_max_batch(const ddpm_unet_workspace *ws) { return ws->max_batch; }

size_t ddpm_unet_workspace_bytes(const ddpm_unet_workspace *ws) { return ws->bytes; }

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
    ddpm_unet_workspace *ws;
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
static void forward_images(ddpm_unet_workspace *ws, int i0, int B, float *scratch, bool split)
{
    const ddpm_unet *n = ws->net;
    const int S = n->cfg.image_size, HW_img = S * S;
    nchw_to_nhwc(ACT(n->input_slot), ws->x + (size_t)i0 * n->slots[n->input_slot].per_image, B,
                 n->cfg.in_channels, HW_img);
    for (int i = 0; i < n->n_ops; i++) {
        const op *o = &n->ops[i];
        const int hw = o->H * o->W;
        const size_t len = (size_t)B * o->C * hw;
        switch (o->kind) {
        case OP_EMBED:
            ddpm_timestep_embedding_forward(ACT(o->out), ws->t + i0, B, o->C, 10000.0f);
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
            ddpm_linear_forward(ACT(o->out), ACT(o->in), PARAM(o->w), PARAM(o->b), B, o->C, o->C_out);
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
                     ACT(n->output_slot), B, n->cfg.out_channels, HW_img, false);
}

/* Task k: images [k FWD_CHUNK, (k + 1) FWD_CHUNK).  An image's output does
 * not depend on the chunk it is in, so any split gives the same bits. */
static void forward_task(void *ctx, int k, int thread)
{
    ddpm_unet_workspace *ws = ctx;
    const int i0 = k * FWD_CHUNK, nb = ws->B - i0 < FWD_CHUNK ? ws->B - i0 : FWD_CHUNK;
    forward_images(ws, i0, nb, ws->tc[thread].scratch, false);
}

/* Packs one conv's weights.  An inference workspace (sampling runs the same
 * weights hundreds of times) keeps a copy of what it packed and skips the
 * packing when the weights are bit for bit the same: a compare costs a
 * fraction of the transform, and a changed weight is always seen. */
static void pack_wf_task(void *ctx, int i, int thread)
{
    ddpm_unet_workspace *ws = ctx;
    const ddpm_unet *n = ws->net;
    const op *o = &n->ops[i];
    (void)thread;
    if (o->kind != OP_CONV) return;
    const ddpm_param_info *w = &n->params[o->w].info;
    const float *weight = ws->params + w->offset;
    if (ws->wf_of) {
        float *seen = ws->wf_of + w->offset;
        if (ws->wf_valid && memcmp(seen, weight, sizeof(float) * w->numel) == 0) return;
        memcpy(seen, weight, sizeof(float) * w->numel);
    }
    ddpm_conv2d_dims d = conv_dims(o, 1);
    ddpm_conv2d_pack_wf(ws->wf + o->wf_off, weight, &d);
}

static void pack_wb_task(void *ctx, int i, int thread)
{
    ddpm_unet_workspace *ws = ctx;
    const ddpm_unet *n = ws->net;
    const op *o = &n->ops[i];
    (void)thread;
    if (o->kind != OP_CONV) return;
    ddpm_conv2d_dims d = conv_dims(o, 1);
    ddpm_conv2d_pack_wb(ws->wb + o->wb_off, PARAM(o->w), &d);
}

void ddpm_unet_forward(const ddpm_unet *n, const float *params, ddpm_unet_workspace *ws,
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
    ddpm_pool_run(ws->pool, n->n_ops, pack_wf_task, ws);
    ws->wf_valid = true;
    const int chunks = (B + FWD_CHUNK - 1) / FWD_CHUNK;
    if (chunks == 1 && ws->pool) /* one chunk: split its convolutions instead */
        forward_images(ws, 0, B, ws->tc[0].scratch, true);
    else
        ddpm_pool_run(ws->pool, chunks, forward_task, ws);
}

const float *ddpm_unet_output(const ddpm_unet_workspace *ws)
{
    return ws->out_nchw ? ws->out_nchw : ws->acts + ws->offsets[ws->net->output_slot];
}

/* The backward pass of images [i0, i0 + B) into one lane of parameter
 * gradients, with the thread's activation-gradient arena. */
static void backward_images(ddpm_unet_workspace *ws, int i0, int B, thread_ctx *tc, float *lane)
{
    const ddpm_unet *n = ws->net;
    const int S = n->cfg.image_size, HW_img = S * S;
#define GRAD(s) (tc->grad + (size_t)n->slots[(s)].grad_off * (size_t)B)
#define LANE(i) ((i) >= 0 ? lane + n->params[(i)].lane_off : NULL)
    nchw_to_nhwc(GRAD(n->output_slot), ws->dout + (size_t)i0 * n->slots[n->output_slot].per_image, B,
                 n->cfg.out_channels, HW_img);
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
            if (o->res >= 0 && grad_slot(n, o->res)) { /* the residual's gradient is out's */
                const size_t len_out = n->slots[o->out].per_image * (size_t)B;
                if (fresh[2]) memcpy(GRAD(o->res), dout, sizeof(float) * len_out);
                else ddpm_add_backward(GRAD(o->res), NULL, dout, len_out);
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
        case OP_ATTENTION:
            ddpm_attention_backward(din, tc->scratch, dout, ACT(o->in), ACT(o->aux), B, o->C, hw);
            break;
        case OP_DROPOUT: {
            const uint8_t *mask = (const uint8_t *)(ws->acts + ws->offsets[o->aux]) + (size_t)i0 * o->C * hw;
            ddpm_dropout_backward(din, dout, mask, ws->dropout_on ? o->p : 0.0f, len);
            break;
        }
        }
    }
    if (ws->dx)
        nhwc_to_nchw(ws->dx + (size_t)i0 * n->slots[n->input_slot].per_image, GRAD(n->input_slot), B,
                     n->cfg.in_channels, HW_img, true);
#undef GRAD
#undef LANE
}

/* Lane l owns images [B*l/L, B*(l+1)/L), taken BWD_CHUNK at a time in
 * order: the split depends on B alone. */
static void backward_task(void *ctx, int l, int thread)
{
    ddpm_unet_workspace *ws = ctx;
    const ddpm_unet *n = ws->net;
    const int L = lanes_for(ws->B), end = ws->B * (l + 1) / L;
    float *lane = ws->lanes + (size_t)l * n->lane_floats;
    memset(lane, 0, sizeof(float) * n->lane_floats);
    for (int b = ws->B * l / L; b < end; b += BWD_CHUNK)
        backward_images(ws, b, end - b < BWD_CHUNK ? end - b : BWD_CHUNK, &ws->tc[thread], lane);
}

/* grads += lane 0 + lane 1 + ..., tensor by tensor, in lane order. */
static void reduce_task(void *ctx, int i, int thread)
{
    ddpm_unet_workspace *ws = ctx;
    const ddpm_unet *n = ws->net;
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

void ddpm_unet_backward(const ddpm_unet *n, const float *params, float *grads,
                        ddpm_unet_workspace *ws, const float *dout, float *dx)
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

int ddpm_unet_denoise(void *ctx, const float *x, const int *t, int B, float *out, ddpm_error *err)
{
    ddpm_unet_denoiser *d = ctx;
    DDPM_ASSERT(d && d->net && d->weights && d->ws);
    const size_t per_image = d->net->slots[d->net->input_slot].per_image;
    for (int b0 = 0; b0 < B; b0 += d->ws->max_batch) {
        int nb = B - b0 < d->ws->max_batch ? B - b0 : d->ws->max_batch;
        ddpm_unet_forward(d->net, d->weights, d->ws, x + (size_t)b0 * per_image, t + b0, nb, NULL);
        memcpy(out + (size_t)b0 * per_image, ddpm_unet_output(d->ws), sizeof(float) * per_image * (size_t)nb);
    }
    (void)err;
    return DDPM_OK;
}
