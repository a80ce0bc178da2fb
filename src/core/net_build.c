/* net_build.c: the layer helpers the architectures are built from (see
 * net_internal.h).  Each appends one op (or a few) and returns the feature
 * map it writes; parameters are named "<name>.weight" / "<name>.bias". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? 2 * (cap) : 64;                                 \
            void *p_ = realloc((arr), sizeof(*(arr)) * (size_t)(cap));      \
            DDPM_ASSERT(p_);                                                \
            (arr) = p_;                                                     \
        }                                                                   \
    } while (0)

int net_new_slot(ddpm_net *n, size_t per_image)
{
    GROW(n->slots, n->n_slots, n->cap_slots);
    slot *sl = &n->slots[n->n_slots];
    memset(sl, 0, sizeof *sl);
    sl->per_image = per_image;
    sl->producer = sl->first_writer = -1;
    sl->grad_off = -1;
    return n->n_slots++;
}

static int new_aux_slot(ddpm_net *n, size_t per_image)
{
    int s = net_new_slot(n, per_image);
    n->slots[s].aux = true;
    return s;
}

static int new_param(ddpm_net *n, const char *prefix, const char *suffix, int ndim,
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

op *net_new_op(ddpm_net *n, op_kind kind)
{
    GROW(n->ops, n->n_ops, n->cap_ops);
    op *o = &n->ops[n->n_ops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->in = o->in2 = o->out = o->aux = o->w = o->b = o->res = o->out_into = -1;
    return o;
}

fmap net_input(ddpm_net *n, int C, int H, int W)
{
    n->C = C, n->H = H, n->W = W;
    n->input_slot = net_new_slot(n, (size_t)C * H * W);
    return (fmap){n->input_slot, C, H, W};
}

fmap net_time_embedding(ddpm_net *n, int dim, int width)
{
    op *e = net_new_op(n, OP_EMBED);
    e->C = dim;
    e->out = n->embed_slot = net_new_slot(n, (size_t)dim);
    fmap temb = {e->out, dim, 1, 1};
    temb = net_linear(n, temb, width, "time_embed.0", false);
    temb = net_silu(n, temb);
    temb = net_linear(n, temb, width, "time_embed.2", false);
    return net_silu(n, temb);
}

fmap net_conv(ddpm_net *n, fmap x, int C_out, int kernel, int stride, const char *name, bool zero_init)
{
    op *o = net_new_op(n, OP_CONV);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->C_out = C_out, o->kernel = kernel, o->stride = stride, o->pad = kernel / 2;
    int fan_in = x.C * kernel * kernel;
    int wshape[4] = {C_out, x.C, kernel, kernel}, bshape[1] = {C_out};
    o->w = new_param(n, name, "weight", 4, wshape, zero_init ? INIT_ZERO : INIT_FAN_IN, fan_in);
    o->b = new_param(n, name, "bias", 1, bshape, zero_init ? INIT_ZERO : INIT_FAN_IN, fan_in);
    int Ho = (x.H + 2 * o->pad - kernel) / stride + 1, Wo = (x.W + 2 * o->pad - kernel) / stride + 1;
    o->out = net_new_slot(n, (size_t)C_out * Ho * Wo);
    return (fmap){o->out, C_out, Ho, Wo};
}

fmap net_linear(ddpm_net *n, fmap x, int out_features, const char *name, bool zero_init)
{
    DDPM_ASSERT(x.H == 1 && x.W == 1);
    op *o = net_new_op(n, OP_LINEAR);
    o->in = x.slot;
    o->C = x.C, o->H = o->W = 1;
    o->C_out = out_features;
    int wshape[2] = {out_features, x.C}, bshape[1] = {out_features};
    const init_kind init = zero_init ? INIT_ZERO : INIT_FAN_IN;
    o->w = new_param(n, name, "weight", 2, wshape, init, x.C);
    o->b = new_param(n, name, "bias", 1, bshape, init, x.C);
    o->out = net_new_slot(n, (size_t)out_features);
    return (fmap){o->out, out_features, 1, 1};
}

static fmap groupnorm_op(ddpm_net *n, fmap x, int groups, const char *name, op_kind kind)
{
    op *o = net_new_op(n, kind);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->groups = groups;
    int shape[1] = {x.C};
    o->w = new_param(n, name, "weight", 1, shape, INIT_ONE, 0);
    o->b = new_param(n, name, "bias", 1, shape, INIT_ZERO, 0);
    o->aux = new_aux_slot(n, 2 * (size_t)o->groups); /* mean (B,G), then rstd (B,G) */
    o->out = net_new_slot(n, (size_t)x.C * x.H * x.W);
    return (fmap){o->out, x.C, x.H, x.W};
}

fmap net_groupnorm(ddpm_net *n, fmap x, int groups, const char *name)
{
    return groupnorm_op(n, x, groups, name, OP_GROUPNORM);
}

fmap net_groupnorm_silu(ddpm_net *n, fmap x, int groups, const char *name)
{
    return groupnorm_op(n, x, groups, name, OP_GN_SILU);
}

static fmap unary(ddpm_net *n, op_kind kind, fmap x)
{
    op *o = net_new_op(n, kind);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->out = net_new_slot(n, (size_t)x.C * x.H * x.W);
    return (fmap){o->out, x.C, x.H, x.W};
}

fmap net_silu(ddpm_net *n, fmap x) { return unary(n, OP_SILU, x); }

fmap net_fourier(ddpm_net *n, fmap x, int K)
{
    DDPM_ASSERT(x.H == 1 && x.W == 1 && K >= 0);
    op *o = net_new_op(n, OP_FOURIER);
    o->in = x.slot;
    o->C = x.C, o->H = o->W = 1;
    o->groups = K;
    o->C_out = x.C * (1 + 2 * K);
    o->out = net_new_slot(n, (size_t)o->C_out);
    return (fmap){o->out, o->C_out, 1, 1};
}

fmap net_dropout(ddpm_net *n, fmap x, float p)
{
    fmap y = unary(n, OP_DROPOUT, x);
    op *o = &n->ops[n->n_ops - 1];
    o->p = p;
    /* the byte mask is stored in a float slot: a quarter of the floats */
    o->aux = new_aux_slot(n, ((size_t)x.C * x.H * x.W + 3) / 4);
    return y;
}

fmap net_concat(ddpm_net *n, fmap a, fmap b)
{
    DDPM_ASSERT(a.H == b.H && a.W == b.W);
    op *o = net_new_op(n, OP_CONCAT);
    o->in = a.slot, o->in2 = b.slot;
    o->C = a.C, o->H = a.H, o->W = a.W, o->C2 = b.C;
    o->out = net_new_slot(n, (size_t)(a.C + b.C) * a.H * a.W);
    return (fmap){o->out, a.C + b.C, a.H, a.W};
}

fmap net_upsample(ddpm_net *n, fmap x)
{
    op *o = net_new_op(n, OP_UPSAMPLE);
    o->in = x.slot;
    o->C = x.C, o->H = x.H, o->W = x.W;
    o->out = net_new_slot(n, (size_t)x.C * 4 * x.H * x.W);
    return (fmap){o->out, x.C, 2 * x.H, 2 * x.W};
}

fmap net_attention(ddpm_net *n, fmap qkv, int C)
{
    DDPM_ASSERT(qkv.C == 3 * C);
    op *o = net_new_op(n, OP_ATTENTION);
    o->in = qkv.slot;
    o->C = C, o->H = qkv.H, o->W = qkv.W;
    const int N = qkv.H * qkv.W;
    o->aux = new_aux_slot(n, (size_t)N * N);
    o->out = net_new_slot(n, (size_t)C * N);
    return (fmap){o->out, C, qkv.H, qkv.W};
}

void net_add_residual(ddpm_net *n, int res)
{
    op *o = &n->ops[n->n_ops - 1];
    DDPM_ASSERT((o->kind == OP_CONV || o->kind == OP_LINEAR) && o->res < 0);
    DDPM_ASSERT(n->slots[res].per_image == n->slots[o->out].per_image);
    o->res = res;
}

/* An op that another one feeds is created first, so that the parameters keep
 * the order of the checkpoint's layers, and moved after it here. */
void net_swap_last_ops(ddpm_net *n)
{
    DDPM_ASSERT(n->n_ops >= 2);
    op tmp = n->ops[n->n_ops - 2];
    n->ops[n->n_ops - 2] = n->ops[n->n_ops - 1];
    n->ops[n->n_ops - 1] = tmp;
}

/* A concat whose first input comes from a conv and goes nowhere else gets
 * it in place: the conv writes its output into the concat's first channels
 * (a pixel stride of both widths), and the concat copies only the second
 * input.  The gradients stay as they are (the concat's backward writes the
 * conv's dout). */
void net_concat_in_place(ddpm_net *n)
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
