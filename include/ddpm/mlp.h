/* ddpm/mlp.h: the residual MLP denoiser of low-dimensional data (the 2D
 * world's points), its configuration and presets; ddpm/net.h builds and
 * runs it (arch DDPM_ARCH_MLP).
 *
 *   ddpm_mlp_config cfg;
 *   ddpm_mlp_preset("mlp", &cfg, &err);      // 2-D points
 *
 * Architecture: a sample is a vector x of data_dim values, run as a 1x1 map
 * of data_dim channels (B, D, 1, 1), so the sampler, trainer and checkpoints
 * treat it like an image.  With the UNet's time embedding (sinusoidal of
 * hidden values, Linear to time_embed_dim, SiLU, Linear, then SiLU):
 *   h = in_proj(x, sin(2^k x), cos(2^k x) for k < fourier)     (B, hidden)
 *   per block:  h = h + fc2(SiLU(fc1(SiLU(norm(h))) + temb_proj(temb)))
 *   out = out_proj(SiLU(norm_out(h)))                          (B, D)
 * where norm is LayerNorm (GroupNorm with one group over the hidden
 * channels) or, with norm = false, the identity.  fc2 and out_proj start at
 * zero, so every block starts as the identity and the network outputs 0
 * (as the UNet's conv_out does).  Parameter names are PyTorch's
 * ("blocks.0.fc1.weight" (hidden, hidden)); tools/torch_mirror.py defines the
 * same network.
 */
#ifndef DDPM_MLP_H
#define DDPM_MLP_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DDPM_MLP_MAX_DIM = 64 };

typedef struct ddpm_mlp_config {
    int data_dim;        /* D: values per sample, 1..DDPM_MLP_MAX_DIM (2 for the 2D world) */
    int hidden;          /* width of the residual stream, 2..4096, even */
    int blocks;          /* residual blocks, 1..32 */
    int time_embed_dim;  /* width of the time-embedding MLP, 2..4096 */
    bool norm;           /* LayerNorm before each block and the head */
    int fourier;         /* octaves of sinusoidal input features (layers.h), 0..16; 0 = x alone */
} ddpm_mlp_config;

/* Presets: "mlp" (the 2D world's default).  Returns DDPM_ERR listing the
 * valid names otherwise. */
int ddpm_mlp_preset(const char *name, ddpm_mlp_config *out, ddpm_error *err);
extern const char *const ddpm_mlp_preset_names[];

/* Checks every field; the message names the field and its range. */
int ddpm_mlp_config_validate(const ddpm_mlp_config *cfg, ddpm_error *err);
bool ddpm_mlp_config_equal(const ddpm_mlp_config *a, const ddpm_mlp_config *b);
/* e.g. "2-D points, 6 octaves, hidden 64, 2 blocks, no norm, temb 64" */
void ddpm_mlp_config_describe(const ddpm_mlp_config *cfg, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
