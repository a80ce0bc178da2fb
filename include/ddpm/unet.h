/* ddpm/unet.h: the denoising UNet, built from a config.
 *
 *   ddpm_unet_config cfg;
 *   ddpm_unet_preset("tiny", &cfg, &err);
 *   ddpm_unet *net;  ddpm_unet_create(&net, &cfg, &err);
 *   float *params = ddpm_xcalloc(ddpm_unet_num_params(net), sizeof(float));
 *   ddpm_unet_init_params(net, params, seed);
 *   ddpm_unet_workspace *ws;  ddpm_unet_workspace_create(&ws, net, 16, false, &err);
 *   ddpm_unet_forward(net, params, ws, x, t, 16, NULL);   // x (16,1,28,28), t (16)
 *   const float *eps_hat = ddpm_unet_output(ws);           // (16,1,28,28)
 *
 * A ddpm_unet is the network's structure only: its config, the table of named
 * parameter tensors and the list of operations.  It is immutable after
 * creation and may be shared by threads.  Weights are plain float arrays of
 * ddpm_unet_num_params() floats laid out by the parameter table, so the same
 * structure runs raw weights, EMA weights or a snapshot on another thread.
 * A workspace holds the activations (and, for training, their gradients and
 * the layer scratch) for up to max_batch images; it is sized once and never
 * reallocated, and belongs to one thread at a time.  It computes on
 * ddpm_get_threads() threads (ddpm/threads.h, read at creation), splitting a
 * batch over images in a way that depends on B alone: outputs and gradients
 * are the same bit for bit at any thread count.
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
#include "ddpm/rng.h"

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

typedef struct ddpm_unet ddpm_unet;

int ddpm_unet_create(ddpm_unet **out, const ddpm_unet_config *cfg, ddpm_error *err);
void ddpm_unet_free(ddpm_unet *net);
const ddpm_unet_config *ddpm_unet_get_config(const ddpm_unet *net);

/* ---- parameters ----------------------------------------------------------- */

typedef struct ddpm_param_info {
    char name[96];      /* PyTorch-style, e.g. "down.0.res.1.conv2.weight" */
    int ndim;
    int shape[4];
    size_t offset;      /* into the flat parameter array, in floats */
    size_t numel;
} ddpm_param_info;

size_t ddpm_unet_num_params(const ddpm_unet *net);
int ddpm_unet_num_tensors(const ddpm_unet *net);
const ddpm_param_info *ddpm_unet_tensor(const ddpm_unet *net, int i);
/* Index of the named tensor, or -1. */
int ddpm_unet_find_tensor(const ddpm_unet *net, const char *name);

/* PyTorch's default initialisation (uniform +-1/sqrt(fan_in) for weights and
 * biases), GroupNorm gamma = 1 and beta = 0, and zero for the last conv of
 * every ResBlock, the attention output projection and conv_out, so that each
 * block starts as the identity (Ho et al.'s zero-initialised layers).
 * Deterministic in seed. */
void ddpm_unet_init_params(const ddpm_unet *net, float *params, uint64_t seed);

/* Multiply-add FLOPs (2 per MAC) of one forward pass for one image: convs,
 * linears and attention products. */
double ddpm_unet_forward_flops(const ddpm_unet *net);

/* ---- running it ------------------------------------------------------------ */

typedef struct ddpm_unet_workspace ddpm_unet_workspace;

/* training = true also allocates activation gradients and backward scratch. */
int ddpm_unet_workspace_create(ddpm_unet_workspace **out, const ddpm_unet *net, int max_batch,
                               bool training, ddpm_error *err);
void ddpm_unet_workspace_free(ddpm_unet_workspace *ws);
int ddpm_unet_workspace_max_batch(const ddpm_unet_workspace *ws);
/* Bytes held by the workspace (activations, gradients, scratch). */
size_t ddpm_unet_workspace_bytes(const ddpm_unet_workspace *ws);
/* Bytes a workspace of this size would hold, without creating it (with the
 * thread count of ddpm_get_threads()). */
size_t ddpm_unet_workspace_bytes_for(const ddpm_unet *net, int max_batch, bool training);
/* Bytes of the activations a forward pass of B images keeps for backward:
 * the model's own memory need, the yardstick for a workspace's overhead. */
size_t ddpm_unet_activation_bytes(const ddpm_unet *net, int B);

/* Forward pass for B <= max_batch images.  dropout_rng: NULL for inference
 * (dropout off); non-NULL in training (dropout on, masks drawn from it). */
void ddpm_unet_forward(const ddpm_unet *net, const float *params, ddpm_unet_workspace *ws,
                       const float *x,   /* (B, in_channels, S, S) */
                       const int *t,     /* (B) timesteps */
                       int B, ddpm_rng *dropout_rng);
/* The output of the last forward, (B, out_channels, S, S), owned by ws. */
const float *ddpm_unet_output(const ddpm_unet_workspace *ws);

/* Backward pass of the last forward (same ws, same params, same B).
 * Accumulates into grads (num_params floats); zero them first yourself.
 * dx, if not NULL, receives the gradient with respect to x (accumulated). */
void ddpm_unet_backward(const ddpm_unet *net, const float *params, float *grads,
                        ddpm_unet_workspace *ws, const float *dout /* (B, out, S, S) */,
                        float *dx);

/* ---- as a denoiser ------------------------------------------------------------ */

/* Binds weights and a workspace to a network, for ddpm_sample (ddpm/sampler.h). */
typedef struct ddpm_unet_denoiser {
    const ddpm_unet *net;
    const float *weights;
    ddpm_unet_workspace *ws;   /* inference workspace; batches larger than its max are split */
} ddpm_unet_denoiser;

/* A ddpm_denoise_fn: ctx is a ddpm_unet_denoiser. */
int ddpm_unet_denoise(void *ctx, const float *x, const int *t, int B, float *out, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
