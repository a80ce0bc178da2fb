/* mlp_build.c: the residual MLP of ddpm/mlp.h as a list of ops
 * (net_internal.h): linears on 1x1 maps, LayerNorm as GroupNorm with one
 * group, and the UNet's time embedding. */
#include <stdio.h>

#include "net_internal.h"

/* SiLU(LayerNorm(x)), or SiLU(x) without norms */
static fmap norm_silu(ddpm_net *n, const ddpm_mlp_config *c, fmap x, const char *name)
{
    return c->norm ? net_groupnorm_silu(n, x, 1, name) : net_silu(n, x);
}

void ddpm_mlp_build(ddpm_net *n, const ddpm_mlp_config *c)
{
    char nm[96];
    fmap x = net_input(n, c->data_dim, 1, 1);
    fmap silu_temb = net_time_embedding(n, c->hidden, c->time_embed_dim);
    if (c->fourier > 0) x = net_fourier(n, x, c->fourier);
    fmap h = net_linear(n, x, c->hidden, "in_proj", false);
    for (int i = 0; i < c->blocks; i++) {
        /* h + fc2(SiLU(fc1(SiLU(norm(h))) + temb_proj(temb))): the projection
         * runs first and fc1 adds it as it stores, fc2 adds h as it stores */
        const fmap in = h;
        snprintf(nm, sizeof nm, "blocks.%d.norm", i);
        fmap a = norm_silu(n, c, h, nm);
        snprintf(nm, sizeof nm, "blocks.%d.fc1", i);
        a = net_linear(n, a, c->hidden, nm, false);
        snprintf(nm, sizeof nm, "blocks.%d.temb_proj", i);
        fmap e = net_linear(n, silu_temb, c->hidden, nm, false);
        net_swap_last_ops(n);
        net_add_residual(n, e.slot);
        a = net_silu(n, a);
        snprintf(nm, sizeof nm, "blocks.%d.fc2", i);
        h = net_linear(n, a, c->hidden, nm, true);
        net_add_residual(n, in.slot);
    }
    h = norm_silu(n, c, h, "norm_out");
    h = net_linear(n, h, c->data_dim, "out_proj", true);
    n->output_slot = h.slot;
    n->C_out = c->data_dim;
}
