/* unet.c: the UNet as a list of layer operations over numbered activation
 * slots, built once from a config; forward runs the list, backward runs it
 * in reverse.  See ddpm/unet.h for the architecture.
 *
 * Every activation slot has a fixed size per image and lives at a fixed
 * offset in one arena sized for max_batch, so a training step allocates
 * nothing.  Gradients of activations mirror the activations in a second
 * arena; because every layer backward accumulates, a tensor read by several
 * operations (a skip, the shared SiLU(time embedding)) simply sums their
 * contributions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/layers.h"
#include "ddpm/unet.h"

typedef enum {
    OP_EMBED,       /* sinusoidal timestep embedding of ws->t */
    OP_CONV,
    OP_LINEAR,
    OP_GROUPNORM,
    OP_SILU,
    OP_CHANNEL_ADD, /* in (C,HW) + in2 (C) broadcast */
    OP_ADD,
    OP_CONCAT,
    OP_UPSAMPLE,
    OP_ATTENTION,   /* in = qkv (3C, N) */
    OP_DROPOUT,
} op_kind;

typedef struct {
    op_kind kind;
    int in, in2, out, aux;   /* slots; aux = saved statistics / probs / mask */
    int w, b;                /* parameter tensor indices, -1 if none */
    int C, H, W;             /* per-image input shape */
    int C2;                  /* second input's channels (concat) */
    int C_out, kernel, stride, pad, groups;
    float p;                 /* dropout probability */
} op;

typedef struct {
    size_t per_image;        /* floats per image */
} slot;

/* How a parameter tensor is initialised. */
typedef enum { INIT_FAN_IN, INIT_ZERO, INIT_ONE } init_kind;

typedef struct {
    ddpm_param_info info;
    init_kind init;
    int fan_in;
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
    int input_slot, output_slot;
};

struct ddpm_unet_workspace {
    const ddpm_unet *net;
    int max_batch, B;
    bool training;
    bool dropout_on;         /* whether the last forward applied dropout */
    size_t *offsets;         /* per slot, in floats, into acts/dacts */
    size_t arena_floats;
    float *acts, *dacts;
    float *scratch;
    size_t scratch_floats;
    int *t;                  /* (max_batch) timesteps of the last forward */
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
    n->slots[n->n_slots].per_image = per_image;
    return n->n_slots++;
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
    o->in = o->in2 = o->out = o->aux = o->w = o->b = -1;
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

static fmap groupnorm(ddpm_unet *n, fmap x, const char *name)
{
    op *o = new_op(n, OP_GROUPNORM);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->groups = n->cfg.groups;
    int shape[1] = {x.C};
    o->w = new_param(n, name, "weight", 1, shape, INIT_ONE, 0);
    o->b = new_param(n, name, "bias", 1, shape, INIT_ZERO, 0);
    o->aux = new_slot(n, 2 * (size_t)o->groups); /* mean (B,G) then rstd (B,G) */
    o->out = new_slot(n, (size_t)x.C * x.H * x.W);
    return (fmap){o->out, x.C, x.H, x.W};
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
    o->aux = new_slot(n, ((size_t)x.C * x.H * x.W + 3) / 4);
    return y;
}

static fmap binary(ddpm_unet *n, op_kind kind, fmap a, fmap b)
{
    op *o = new_op(n, kind);
    o->in = a.slot, o->in2 = b.slot;
    o->C = a.C, o->H = a.H, o->W = a.W, o->C2 = b.C;
    int C_out = kind == OP_CONCAT ? a.C + b.C : a.C;
    if (kind == OP_ADD) DDPM_ASSERT(a.C == b.C && a.H == b.H && a.W == b.W);
    if (kind == OP_CONCAT) DDPM_ASSERT(a.H == b.H && a.W == b.W);
    if (kind == OP_CHANNEL_ADD) DDPM_ASSERT(b.C == a.C && b.H == 1 && b.W == 1);
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

/* ResBlock (Ho et al. 2020 appendix B; Wide ResNet with GroupNorm):
 * h = conv1(SiLU(GN1(x))) + temb_proj(SiLU(temb)); h = conv2(drop(SiLU(GN2(h))));
 * out = skip(x) + h, where skip is a 1x1 conv when the channels change. */
static fmap resblock(ddpm_unet *n, fmap x, fmap silu_temb, int C_out, const char *name)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%s.norm1", name);
    fmap h = unary(n, OP_SILU, groupnorm(n, x, nm));
    snprintf(nm, sizeof nm, "%s.conv1", name);
    h = conv(n, h, C_out, 3, 1, nm, false);
    snprintf(nm, sizeof nm, "%s.temb_proj", name);
    fmap e = linear(n, silu_temb, C_out, nm);
    h = binary(n, OP_CHANNEL_ADD, h, e);
    snprintf(nm, sizeof nm, "%s.norm2", name);
    h = unary(n, OP_SILU, groupnorm(n, h, nm));
    if (n->cfg.dropout > 0.0f) h = dropout(n, h, n->cfg.dropout);
    snprintf(nm, sizeof nm, "%s.conv2", name);
    h = conv(n, h, C_out, 3, 1, nm, true);
    fmap skip = x;
    if (x.C != C_out) {
        snprintf(nm, sizeof nm, "%s.skip", name);
        skip = conv(n, x, C_out, 1, 1, nm, false);
    }
    return binary(n, OP_ADD, skip, h);
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
    o->aux = new_slot(n, (size_t)N * N);
    o->out = new_slot(n, (size_t)x.C * N);
    h = (fmap){o->out, x.C, x.H, x.W};
    snprintf(nm, sizeof nm, "%s.proj", name);
    h = conv(n, h, x.C, 1, 1, nm, true);
    return binary(n, OP_ADD, x, h);
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
    e->out = new_slot(n, (size_t)c->base_channels);
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
    h = unary(n, OP_SILU, groupnorm(n, h, "norm_out"));
    h = conv(n, h, c->out_channels, 3, 1, "conv_out", true);
    n->output_slot = h.slot;
}

int ddpm_unet_create(ddpm_unet **out, const ddpm_unet_config *cfg, ddpm_error *err)
{
    DDPM_ASSERT(out && cfg);
    *out = NULL;
    if (ddpm_unet_config_validate(cfg, err) != DDPM_OK) return DDPM_ERR;
    ddpm_unet *n = ddpm_xcalloc(1, sizeof *n);
    n->cfg = *cfg;
    build(n);
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

static ddpm_conv2d_dims conv_dims(const op *o, int B)
{
    ddpm_conv2d_dims d = {.B = B, .C_in = o->C, .H = o->H, .W = o->W, .C_out = o->C_out,
                          .kernel = o->kernel, .stride = o->stride, .pad = o->pad};
    return d;
}

static size_t scratch_floats_for(const ddpm_unet *n, int B, bool training)
{
    size_t need = 0;
    for (int i = 0; i < n->n_ops; i++) {
        const op *o = &n->ops[i];
        size_t s = 0;
        if (o->kind == OP_CONV) {
            ddpm_conv2d_dims d = conv_dims(o, B);
            s = ddpm_conv2d_scratch_floats(&d);
        } else if (o->kind == OP_ATTENTION && training) {
            s = ddpm_attention_scratch_floats(o->C, o->H * o->W);
        }
        if (s > need) need = s;
    }
    return need;
}

static size_t arena_floats_for(const ddpm_unet *n, int B)
{
    size_t total = 0;
    for (int i = 0; i < n->n_slots; i++) total += n->slots[i].per_image * (size_t)B;
    return total;
}

size_t ddpm_unet_workspace_bytes_for(const ddpm_unet *n, int B, bool training)
{
    size_t acts = arena_floats_for(n, B);
    size_t floats = acts * (training ? 2 : 1) + scratch_floats_for(n, B, training);
    return floats * sizeof(float) + sizeof(int) * (size_t)B;
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
    ws->offsets = calloc((size_t)n->n_slots, sizeof(size_t));
    ws->t = calloc((size_t)max_batch, sizeof(int));
    size_t off = 0;
    for (int i = 0; ws->offsets && i < n->n_slots; i++) {
        ws->offsets[i] = off;
        off += n->slots[i].per_image * (size_t)max_batch;
    }
    ws->arena_floats = off;
    ws->scratch_floats = scratch_floats_for(n, max_batch, training);
    ws->acts = calloc(off, sizeof(float));
    ws->dacts = training ? calloc(off, sizeof(float)) : NULL;
    ws->scratch = calloc(ws->scratch_floats ? ws->scratch_floats : 1, sizeof(float));
    if (!ws->offsets || !ws->t || !ws->acts || (training && !ws->dacts) || !ws->scratch) {
        size_t mb = ddpm_unet_workspace_bytes_for(n, max_batch, training) >> 20;
        ddpm_unet_workspace_free(ws);
        return ddpm_fail(err, "out of memory for a batch of %d (%zu MiB of activations); use a smaller --batch",
                         max_batch, mb);
    }
    *out = ws;
    return DDPM_OK;
}

void ddpm_unet_workspace_free(ddpm_unet_workspace *ws)
{
    if (!ws) return;
    free(ws->offsets);
    free(ws->t);
    free(ws->acts);
    free(ws->dacts);
    free(ws->scratch);
    free(ws);
}

int ddpm_unet_workspace_max_batch(const ddpm_unet_workspace *ws) { return ws->max_batch; }

size_t ddpm_unet_workspace_bytes(const ddpm_unet_workspace *ws)
{
    return (ws->arena_floats * (ws->training ? 2 : 1) + ws->scratch_floats) * sizeof(float) +
           sizeof(int) * (size_t)ws->max_batch;
}

/* ---- forward and backward ----------------------------------------------------- */

#define ACT(s) (ws->acts + ws->offsets[(s)])
#define DACT(s) (ws->dacts + ws->offsets[(s)])
#define PARAM(i) ((i) >= 0 ? params + n->params[(i)].info.offset : NULL)
#define GRAD(i) ((i) >= 0 ? grads + n->params[(i)].info.offset : NULL)

void ddpm_unet_forward(const ddpm_unet *n, const float *params, ddpm_unet_workspace *ws,
                       const float *x, const int *t, int B, ddpm_rng *dropout_rng)
{
    DDPM_ASSERT(n && params && ws && ws->net == n && x && t);
    DDPM_ASSERT(B >= 1 && B <= ws->max_batch);
    ws->B = B;
    ws->dropout_on = dropout_rng != NULL;
    memcpy(ws->t, t, sizeof(int) * (size_t)B);
    memcpy(ACT(n->input_slot), x, sizeof(float) * n->slots[n->input_slot].per_image * (size_t)B);
    for (int i = 0; i < n->n_ops; i++) {
        const op *o = &n->ops[i];
        const size_t hw = (size_t)o->H * o->W, len = (size_t)B * o->C * hw;
        switch (o->kind) {
        case OP_EMBED:
            ddpm_timestep_embedding_forward(ACT(o->out), ws->t, B, o->C, 10000.0f);
            break;
        case OP_CONV: {
            ddpm_conv2d_dims d = conv_dims(o, B);
            ddpm_conv2d_forward(ACT(o->out), ws->scratch, ACT(o->in), PARAM(o->w), PARAM(o->b), &d);
            break;
        }
        case OP_LINEAR:
            ddpm_linear_forward(ACT(o->out), ACT(o->in), PARAM(o->w), PARAM(o->b), B, o->C, o->C_out);
            break;
        case OP_GROUPNORM: {
            float *mean = ACT(o->aux), *rstd = mean + (size_t)B * o->groups;
            ddpm_groupnorm_forward(ACT(o->out), mean, rstd, ACT(o->in), PARAM(o->w), PARAM(o->b), B,
                                   o->C, (int)hw, o->groups, 1e-5f);
            break;
        }
        case OP_SILU: ddpm_silu_forward(ACT(o->out), ACT(o->in), len); break;
        case OP_CHANNEL_ADD:
            ddpm_channel_add_forward(ACT(o->out), ACT(o->in), ACT(o->in2), B, o->C, (int)hw);
            break;
        case OP_ADD: ddpm_add_forward(ACT(o->out), ACT(o->in), ACT(o->in2), len); break;
        case OP_CONCAT:
            ddpm_concat_forward(ACT(o->out), ACT(o->in), ACT(o->in2), B, o->C, o->C2, (int)hw);
            break;
        case OP_UPSAMPLE: ddpm_upsample2x_forward(ACT(o->out), ACT(o->in), B, o->C, o->H, o->W); break;
        case OP_ATTENTION:
            ddpm_attention_forward(ACT(o->out), ACT(o->aux), ACT(o->in), B, o->C, (int)hw);
            break;
        case OP_DROPOUT:
            ddpm_dropout_forward(ACT(o->out), (uint8_t *)ACT(o->aux), ACT(o->in),
                                 dropout_rng ? o->p : 0.0f, dropout_rng, len);
            break;
        }
    }
}

const float *ddpm_unet_output(const ddpm_unet_workspace *ws)
{
    return ws->acts + ws->offsets[ws->net->output_slot];
}

void ddpm_unet_backward(const ddpm_unet *n, const float *params, float *grads,
                        ddpm_unet_workspace *ws, const float *dout, float *dx)
{
    DDPM_ASSERT(n && params && grads && ws && ws->net == n && ws->training && dout);
    const int B = ws->B;
    DDPM_ASSERT(B >= 1);
    for (int s = 0; s < n->n_slots; s++)
        memset(DACT(s), 0, sizeof(float) * n->slots[s].per_image * (size_t)B);
    memcpy(DACT(n->output_slot), dout, sizeof(float) * n->slots[n->output_slot].per_image * (size_t)B);
    for (int i = n->n_ops - 1; i >= 0; i--) {
        const op *o = &n->ops[i];
        const size_t hw = (size_t)o->H * o->W, len = (size_t)B * o->C * hw;
        /* the input image needs no gradient unless the caller asks for it */
        float *din = o->in >= 0 && (o->in != n->input_slot || dx) ? DACT(o->in) : NULL;
        switch (o->kind) {
        case OP_EMBED: break; /* integer input: nothing to propagate */
        case OP_CONV: {
            ddpm_conv2d_dims d = conv_dims(o, B);
            ddpm_conv2d_backward(din, GRAD(o->w), GRAD(o->b), ws->scratch, DACT(o->out), ACT(o->in),
                                 PARAM(o->w), &d);
            break;
        }
        case OP_LINEAR:
            ddpm_linear_backward(din, GRAD(o->w), GRAD(o->b), DACT(o->out), ACT(o->in), PARAM(o->w), B,
                                 o->C, o->C_out);
            break;
        case OP_GROUPNORM: {
            const float *mean = ACT(o->aux), *rstd = mean + (size_t)B * o->groups;
            ddpm_groupnorm_backward(din, GRAD(o->w), GRAD(o->b), DACT(o->out), ACT(o->in), mean, rstd,
                                    PARAM(o->w), B, o->C, (int)hw, o->groups);
            break;
        }
        case OP_SILU: ddpm_silu_backward(din, DACT(o->out), ACT(o->in), len); break;
        case OP_CHANNEL_ADD:
            ddpm_channel_add_backward(din, DACT(o->in2), DACT(o->out), B, o->C, (int)hw);
            break;
        case OP_ADD: ddpm_add_backward(din, DACT(o->in2), DACT(o->out), len); break;
        case OP_CONCAT:
            ddpm_concat_backward(din, DACT(o->in2), DACT(o->out), B, o->C, o->C2, (int)hw);
            break;
        case OP_UPSAMPLE: ddpm_upsample2x_backward(din, DACT(o->out), B, o->C, o->H, o->W); break;
        case OP_ATTENTION:
            ddpm_attention_backward(din, ws->scratch, DACT(o->out), ACT(o->in), ACT(o->aux), B, o->C,
                                    (int)hw);
            break;
        case OP_DROPOUT:
            ddpm_dropout_backward(din, DACT(o->out), (const uint8_t *)ACT(o->aux),
                                  ws->dropout_on ? o->p : 0.0f, len);
            break;
        }
    }
    if (dx) {
        const float *g = DACT(n->input_slot);
        size_t len = n->slots[n->input_slot].per_image * (size_t)B;
        for (size_t i = 0; i < len; i++) dx[i] += g[i];
    }
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
