/* unet_config.c: UNet configurations, the named presets and their checks. */
#include <stdio.h>
#include <string.h>

#include "ddpm/unet.h"

const char *const ddpm_unet_preset_names[] = {"live", "tiny", "small", NULL};

int ddpm_unet_preset(const char *name, ddpm_unet_config *out, ddpm_error *err)
{
    DDPM_ASSERT(out);
    memset(out, 0, sizeof *out);
    out->in_channels = 1;
    out->out_channels = 1;
    out->image_size = 28;
    out->levels = 3;
    out->dropout = 0.0f;
    out->attention[2] = true; /* self-attention at 7x7 is cheap and helps global shape */
    out->mid_attention = true;
    out->groups = 8;
    if (name && strcmp(name, "live") == 0) {
        /* Live training in a lecture, chosen by measurement (bench/README.md,
         * "The live recipe"): tiny's shape with 16 channels at every level
         * instead of 16-32-32: fewer parameters and more steps a second,
         * which at a fixed two minutes beat tiny's width. */
        out->base_channels = 16;
        out->channel_mult[0] = 1, out->channel_mult[1] = 1, out->channel_mult[2] = 1;
        out->res_blocks = 1;
        out->time_embed_dim = 64;
        return DDPM_OK;
    }
    if (name && strcmp(name, "tiny") == 0) {
        /* Live training in front of an audience: ~0.28M parameters and ~96
         * MFLOP per image, so a 2-core laptop shows digits within minutes. */
        out->base_channels = 16;
        out->channel_mult[0] = 1, out->channel_mult[1] = 2, out->channel_mult[2] = 2;
        out->res_blocks = 1;
        out->time_embed_dim = 64;
        return DDPM_OK;
    }
    if (name && strcmp(name, "small") == 0) {
        /* The default: the best quality on the bundled digits after one to two
         * CPU-hours.  ~0.63M parameters and ~214 MFLOP per image: measured
         * against wider nets (base 32, two ResBlocks: 554 MFLOP) it learns
         * more per CPU-minute at this budget, and it keeps the visualizer's
         * 4x4 grid of 50 DDIM steps near two seconds on one core. */
        out->base_channels = 24;
        out->channel_mult[0] = 1, out->channel_mult[1] = 2, out->channel_mult[2] = 2;
        out->res_blocks = 1;
        out->time_embed_dim = 96;
        return DDPM_OK;
    }
    memset(out, 0, sizeof *out);
    return ddpm_fail(err, "unknown preset '%s'; valid presets are: live, tiny, small", name ? name : "(null)");
}

int ddpm_unet_config_validate(const ddpm_unet_config *c, ddpm_error *err)
{
    DDPM_ASSERT(c);
    if (c->in_channels < 1 || c->in_channels > 4)
        return ddpm_fail(err, "in_channels = %d; use 1 (gray) to 4", c->in_channels);
    if (c->out_channels < 1 || c->out_channels > 4)
        return ddpm_fail(err, "out_channels = %d; use 1 (gray) to 4", c->out_channels);
    if (c->levels < 1 || c->levels > DDPM_UNET_MAX_LEVELS)
        return ddpm_fail(err, "levels = %d; use 1..%d", c->levels, DDPM_UNET_MAX_LEVELS);
    if (c->image_size < 4 || c->image_size > 256)
        return ddpm_fail(err, "image_size = %d; use 4..256", c->image_size);
    if (c->image_size % (1 << (c->levels - 1)) != 0)
        return ddpm_fail(err, "image_size %d is not divisible by 2^(levels-1) = %d; use fewer levels",
                         c->image_size, 1 << (c->levels - 1));
    if (c->base_channels < 1 || c->base_channels > 1024)
        return ddpm_fail(err, "base_channels = %d; use 1..1024", c->base_channels);
    if (c->groups < 1) return ddpm_fail(err, "groups = %d; must be >= 1", c->groups);
    if (c->base_channels % c->groups != 0)
        return ddpm_fail(err, "base_channels %d is not divisible by groups %d", c->base_channels, c->groups);
    for (int l = 0; l < c->levels; l++) {
        int m = c->channel_mult[l];
        if (m < 1 || m > 16) return ddpm_fail(err, "channel_mult[%d] = %d; use 1..16", l, m);
        if ((c->base_channels * m) % c->groups != 0)
            return ddpm_fail(err, "level %d has %d channels, not divisible by groups %d", l,
                             c->base_channels * m, c->groups);
    }
    for (int l = c->levels; l < DDPM_UNET_MAX_LEVELS; l++)
        if (c->channel_mult[l] != 0 || c->attention[l])
            return ddpm_fail(err, "level %d is set but levels = %d", l, c->levels);
    if (c->res_blocks < 1 || c->res_blocks > 8)
        return ddpm_fail(err, "res_blocks = %d; use 1..8", c->res_blocks);
    if (c->time_embed_dim < 2 || c->time_embed_dim > 4096)
        return ddpm_fail(err, "time_embed_dim = %d; use 2..4096", c->time_embed_dim);
    if (c->base_channels % 2 != 0)
        return ddpm_fail(err, "base_channels = %d must be even (sinusoidal embedding)", c->base_channels);
    if (!(c->dropout >= 0.0f && c->dropout <= 0.9f))
        return ddpm_fail(err, "dropout = %g; use 0..0.9", (double)c->dropout);
    return DDPM_OK;
}

bool ddpm_unet_config_equal(const ddpm_unet_config *a, const ddpm_unet_config *b)
{
    if (a->in_channels != b->in_channels || a->out_channels != b->out_channels ||
        a->image_size != b->image_size || a->base_channels != b->base_channels ||
        a->levels != b->levels || a->res_blocks != b->res_blocks ||
        a->mid_attention != b->mid_attention || a->groups != b->groups ||
        a->time_embed_dim != b->time_embed_dim || a->dropout != b->dropout)
        return false;
    for (int l = 0; l < DDPM_UNET_MAX_LEVELS; l++)
        if (a->channel_mult[l] != b->channel_mult[l] || a->attention[l] != b->attention[l])
            return false;
    return true;
}

void ddpm_unet_config_describe(const ddpm_unet_config *c, char *buf, size_t cap)
{
    char mult[64] = "", attn[64] = "";
    for (int l = 0; l < c->levels; l++) {
        size_t n = strlen(mult), m = strlen(attn);
        snprintf(mult + n, sizeof mult - n, l ? ",%d" : "%d", c->channel_mult[l]);
        snprintf(attn + m, sizeof attn - m, l ? ",%s" : "%s", c->attention[l] ? "y" : "-");
    }
    snprintf(buf, cap,
             "%dx%dx%d, base %d, mult %s, %d res/level, attn %s, mid attn %s, %d groups, temb %d, "
             "dropout %g",
             c->in_channels, c->image_size, c->image_size, c->base_channels, mult, c->res_blocks,
             attn, c->mid_attention ? "yes" : "no", c->groups, c->time_embed_dim, (double)c->dropout);
}
