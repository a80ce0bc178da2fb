/* ddpm/unet.h: the denoising UNet's configuration and presets; ddpm/net.h
 * builds and runs it (arch DDPM_ARCH_UNET).
 *
 *   ddpm_unet_config cfg;
 *   ddpm_unet_preset("tiny", &cfg, &err);
 *   char desc[256];
 *   ddpm_unet_config_describe(&cfg, desc, sizeof desc);
 *
 * Architecture (Ho et al. 2020, appendix B, scaled down): conv_in; per level
 * res_blocks ResBlocks (GroupNorm, SiLU, conv, + time embedding, GroupNorm,
 * SiLU, dropout, conv, + skip), optional self-attention, a stride-2 conv
 * between levels; a middle ResBlock-attention-ResBlock; the mirror image
 * going up with skip concatenation and nearest x2 upsampling + conv; then
 * GroupNorm, SiLU, conv_out.  The time embedding is sinusoidal followed by
 * Linear-SiLU-Linear.  tools/torch_mirror.py defines the same network in
 * PyTorch with the same parameter names.
 */
#ifndef DDPM_UNET_H
#define DDPM_UNET_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DDPM_UNET_MAX_LEVELS = 4 };

typedef struct ddpm_unet_config {
    int in_channels;     /* 1 for digits, 3 for RGB */
    int out_channels;    /* usually == in_channels */
    int image_size;      /* square; divisible by 2^(levels-1) (28 -> 14 -> 7) */
    int base_channels;
    int levels;          /* 1..DDPM_UNET_MAX_LEVELS */
    int channel_mult[DDPM_UNET_MAX_LEVELS];
    int res_blocks;      /* ResBlocks per level going down (one more going up) */
    bool attention[DDPM_UNET_MAX_LEVELS]; /* self-attention after the level's ResBlocks */
    bool mid_attention;
    int groups;          /* GroupNorm groups; divides every channel count */
    int time_embed_dim;  /* width of the time-embedding MLP */
    float dropout;       /* in ResBlocks, training only; 0..0.9 */
} ddpm_unet_config;

/* Presets: "tiny" (live training in a lecture) and "small" (the default,
 * best quality).  Returns DDPM_ERR listing the valid names otherwise. */
int ddpm_unet_preset(const char *name, ddpm_unet_config *out, ddpm_error *err);
/* NULL-terminated list of preset names. */
extern const char *const ddpm_unet_preset_names[];

/* Checks every field and their combination; the message names the field. */
int ddpm_unet_config_validate(const ddpm_unet_config *cfg, ddpm_error *err);
/* True when the two configs describe the same network. */
bool ddpm_unet_config_equal(const ddpm_unet_config *a, const ddpm_unet_config *b);
/* One-line human description, e.g. "base 32, mult 1,2,2, 1 res, attn -,-,-, mid attn, 8 groups". */
void ddpm_unet_config_describe(const ddpm_unet_config *cfg, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
