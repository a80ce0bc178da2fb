/* net_internal.h (private to the core): what a network is made of, shared by
 * the executor (net.c) and the builders (net_build.c: the layer helpers;
 * unet_build.c, mlp_build.c: the architectures).
 *
 * A network is a list of layer operations over numbered activation slots.
 * A builder appends ops in forward order; each op reads slots (in, in2, res)
 * and writes one (out); parameters are registered as named tensors in the
 * order of the checkpoint's layers.  The executor then plans the buffers
 * (packed weights, gradient lanes, the backward liveness of every slot) and
 * runs the list forward, and in reverse for backward. */
#ifndef DDPM_NET_INTERNAL_H
#define DDPM_NET_INTERNAL_H

#include <stddef.h>

#include "ddpm/net.h"

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
    OP_FOURIER,     /* sinusoidal features of the input; groups = the number of octaves */
} op_kind;

typedef struct {
    op_kind kind;
    int in, in2, out, aux;   /* slots; aux = saved statistics / probs / mask */
    int res;                 /* conv, linear: a slot added to the output as it is stored, or -1 */
    int out_into;            /* conv: forward writes into this (concat) slot instead of out, */
    int out_stride;          /* with this many floats a pixel; -1 / 0 without */
    bool in_place;           /* concat: its first input is written in place by its producer */
    int w, b;                /* parameter tensor indices, -1 if none */
    int C, H, W;             /* per-sample input shape */
    int C2;                  /* second input's channels (concat) */
    int C_out, kernel, stride, pad, groups;
    float p;                 /* dropout probability */
    size_t wf_off, wb_off;   /* conv, linear: packed weights in ws->wf / ws->wb */
} op;

typedef struct {
    size_t per_image;        /* floats per sample */
    bool aux;                /* saved statistics: no gradient */
    bool no_act;             /* written in place into a concat: no activation memory */
    /* backward plan: the gradient is live from the backward of op
     * first_writer down to that of op producer; grad_off is its place in
     * the per-sample gradient plan (-1: never needs one) */
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

struct ddpm_net {
    ddpm_net_config cfg;
    int C, H, W;                  /* one input sample */
    int C_out;                    /* output channels (the same H, W) */
    param_spec *params;
    int n_params, cap_params;
    size_t total_params;
    op *ops;
    int n_ops, cap_ops;
    slot *slots;
    int n_slots, cap_slots;
    int input_slot, output_slot, embed_slot;
    int fwd_chunk, bwd_chunk;     /* samples a task takes through the layers at once */
    size_t wf_floats, wb_floats;  /* all conv and linear weights, packed */
    size_t lane_floats;           /* one gradient lane */
    size_t grad_per_image;        /* the gradient plan's peak, floats per sample */
    size_t scratch_floats;        /* per thread, for any op */
};

/* ---- builder helpers (net_build.c) ------------------------------------------ */

/* A feature map flowing through a builder: slot plus per-sample shape. */
typedef struct {
    int slot, C, H, W;
} fmap;

int net_new_slot(ddpm_net *n, size_t per_image);
op *net_new_op(ddpm_net *n, op_kind kind);
/* The input slot, (C, H, W) per sample. */
fmap net_input(ddpm_net *n, int C, int H, int W);
/* Sinusoidal embedding of t (dim values), Linear(dim, width) "time_embed.0",
 * SiLU, Linear(width, width) "time_embed.2", then the SiLU every block applies
 * before its projection, computed once: the (B, width) map blocks read. */
fmap net_time_embedding(ddpm_net *n, int dim, int width);
fmap net_conv(ddpm_net *n, fmap x, int C_out, int kernel, int stride, const char *name, bool zero_init);
/* On a 1x1 map: y = x W^T + b, PyTorch's nn.Linear (out, in) weight. */
fmap net_linear(ddpm_net *n, fmap x, int out_features, const char *name, bool zero_init);
fmap net_groupnorm(ddpm_net *n, fmap x, int groups, const char *name);
/* SiLU(GroupNorm(x)), fused */
fmap net_groupnorm_silu(ddpm_net *n, fmap x, int groups, const char *name);
fmap net_silu(ddpm_net *n, fmap x);
fmap net_dropout(ddpm_net *n, fmap x, float p);
fmap net_concat(ddpm_net *n, fmap a, fmap b);
fmap net_upsample(ddpm_net *n, fmap x);
/* [x, sin(2^k x), cos(2^k x)] for k < K, on a 1x1 map: (C (1 + 2K)). */
fmap net_fourier(ddpm_net *n, fmap x, int K);
/* Single-head attention core over an (N, 3C) qkv map: (N, C). */
fmap net_attention(ddpm_net *n, fmap qkv, int C);
/* The last op adds slot `res` to its output as it stores it (conv, linear). */
void net_add_residual(ddpm_net *n, int res);
/* Swaps the last two ops, which must not depend on each other (see
 * net_build.c). */
void net_swap_last_ops(ddpm_net *n);
/* Convs whose output only feeds a concat write straight into it. */
void net_concat_in_place(ddpm_net *n);

/* ---- the architectures ------------------------------------------------------ */

void ddpm_unet_build(ddpm_net *n, const ddpm_unet_config *cfg);
void ddpm_mlp_build(ddpm_net *n, const ddpm_mlp_config *cfg);

#endif
