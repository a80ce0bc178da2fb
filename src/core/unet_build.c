/* unet_build.c: the UNet of ddpm/unet.h as a list of ops (net_internal.h). */
#include <stdio.h>

#include "net_internal.h"

/* ResBlock (Ho et al. 2020 appendix B; Wide ResNet with GroupNorm):
 * h = conv1(SiLU(GN1(x))) + temb_proj(SiLU(temb)); h = conv2(drop(SiLU(GN2(h))));
 * out = skip(x) + h, where skip is a 1x1 conv when the channels change. */
static fmap resblock(ddpm_net *n, const ddpm_unet_config *c, fmap x, fmap silu_temb, int C_out,
                     const char *name)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%s.norm1", name);
    fmap h = net_groupnorm_silu(n, x, c->groups, nm);
    snprintf(nm, sizeof nm, "%s.conv1", name);
    h = net_conv(n, h, C_out, 3, 1, nm, false);
    snprintf(nm, sizeof nm, "%s.temb_proj", name);
    fmap e = net_linear(n, silu_temb, C_out, nm, false);
    /* The projection runs first, and conv1 adds it to its bias, image by
     * image (no pass of its own over h). */
    net_swap_last_ops(n);
    n->ops[n->n_ops - 1].in2 = e.slot;
    snprintf(nm, sizeof nm, "%s.norm2", name);
    h = net_groupnorm_silu(n, h, c->groups, nm);
    if (c->dropout > 0.0f) h = net_dropout(n, h, c->dropout);
    snprintf(nm, sizeof nm, "%s.conv2", name);
    h = net_conv(n, h, C_out, 3, 1, nm, true);
    int conv2 = n->n_ops - 1;
    fmap skip = x;
    if (x.C != C_out) { /* the skip conv runs first (swapped, as above) */
        snprintf(nm, sizeof nm, "%s.skip", name);
        skip = net_conv(n, x, C_out, 1, 1, nm, false);
        net_swap_last_ops(n);
        conv2++;
    }
    /* out = skip + conv2(h): conv2 adds the residual as it stores */
    n->ops[conv2].res = skip.slot;
    return h;
}

/* Single-head self-attention block: x + proj(attn(qkv(GN(x)))). */
static fmap attention_block(ddpm_net *n, const ddpm_unet_config *c, fmap x, const char *name)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%s.norm", name);
    fmap h = net_groupnorm(n, x, c->groups, nm);
    snprintf(nm, sizeof nm, "%s.qkv", name);
    h = net_conv(n, h, 3 * x.C, 1, 1, nm, false);
    h = net_attention(n, h, x.C);
    snprintf(nm, sizeof nm, "%s.proj", name);
    h = net_conv(n, h, x.C, 1, 1, nm, true);
    net_add_residual(n, x.slot); /* x + proj(...), added as proj stores */
    return h;
}

void ddpm_unet_build(ddpm_net *n, const ddpm_unet_config *c)
{
    const int S = c->image_size;
    char nm[96];

    fmap x = net_input(n, c->in_channels, S, S);
    fmap silu_temb = net_time_embedding(n, c->base_channels, c->time_embed_dim);

    fmap h = net_conv(n, x, c->base_channels, 3, 1, "conv_in", false);
    fmap skips[64];
    int n_skips = 0;
    skips[n_skips++] = h;
    for (int l = 0; l < c->levels; l++) {
        int ch = c->base_channels * c->channel_mult[l];
        for (int r = 0; r < c->res_blocks; r++) {
            snprintf(nm, sizeof nm, "down.%d.res.%d", l, r);
            h = resblock(n, c, h, silu_temb, ch, nm);
            if (c->attention[l]) {
                snprintf(nm, sizeof nm, "down.%d.attn.%d", l, r);
                h = attention_block(n, c, h, nm);
            }
            skips[n_skips++] = h;
        }
        if (l + 1 < c->levels) {
            snprintf(nm, sizeof nm, "down.%d.downsample", l);
            h = net_conv(n, h, ch, 3, 2, nm, false);
            skips[n_skips++] = h;
        }
    }
    h = resblock(n, c, h, silu_temb, h.C, "mid.res1");
    if (c->mid_attention) h = attention_block(n, c, h, "mid.attn");
    h = resblock(n, c, h, silu_temb, h.C, "mid.res2");
    for (int l = c->levels - 1; l >= 0; l--) {
        int ch = c->base_channels * c->channel_mult[l];
        for (int r = 0; r <= c->res_blocks; r++) {
            DDPM_ASSERT(n_skips > 0);
            h = net_concat(n, h, skips[--n_skips]);
            snprintf(nm, sizeof nm, "up.%d.res.%d", l, r);
            h = resblock(n, c, h, silu_temb, ch, nm);
            if (c->attention[l]) {
                snprintf(nm, sizeof nm, "up.%d.attn.%d", l, r);
                h = attention_block(n, c, h, nm);
            }
        }
        if (l > 0) {
            h = net_upsample(n, h);
            snprintf(nm, sizeof nm, "up.%d.upsample", l);
            h = net_conv(n, h, ch, 3, 1, nm, false);
        }
    }
    DDPM_ASSERT(n_skips == 0);
    h = net_groupnorm_silu(n, h, c->groups, "norm_out");
    h = net_conv(n, h, c->out_channels, 3, 1, "conv_out", true);
    n->output_slot = h.slot;
    n->C_out = c->out_channels;
    net_concat_in_place(n);
}
