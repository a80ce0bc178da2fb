/* ddpm/net.h: a denoising network of any architecture (the UNet of
 * ddpm/unet.h, the MLP of ddpm/mlp.h), built from a config into one list of
 * layer operations and run by one executor.
 *
 *   ddpm_net_config cfg;
 *   ddpm_net_preset("tiny", &cfg, &err);                  // or "small", "mlp"
 *   ddpm_net *net;  ddpm_net_create(&net, &cfg, &err);
 *   float *params = ddpm_xcalloc(ddpm_net_num_params(net), sizeof(float));
 *   ddpm_net_init_params(net, params, seed);
 *   ddpm_net_workspace *ws;  ddpm_net_workspace_create(&ws, net, 16, false, &err);
 *   ddpm_net_forward(net, params, ws, x, t, 16, NULL);     // x (16,1,28,28), t (16)
 *   const float *eps_hat = ddpm_net_output(ws);            // (16,1,28,28)
 *
 * Every network maps a batch of samples (B, C, H, W) and their timesteps (B)
 * to an output of the same shape: images are (1, 28, 28), an MLP's vectors of
 * D values are (D, 1, 1).  ddpm_net_config_shape gives (C, H, W), so the
 * trainer, the sampler, checkpoints and the visualizer work on any network
 * without knowing which one it is.
 *
 * A ddpm_net is the network's structure only: its config, the table of named
 * parameter tensors and the list of operations.  It is immutable after
 * creation and may be shared by threads.  Weights are plain float arrays of
 * ddpm_net_num_params() floats laid out by the parameter table, so the same
 * structure runs raw weights, EMA weights or a snapshot on another thread.
 * A workspace holds the activations (and, for training, their gradients and
 * the layer scratch) for up to max_batch samples; it is sized once and never
 * reallocated, and belongs to one thread at a time.  It computes on
 * ddpm_get_threads() threads (ddpm/threads.h, read at creation), splitting a
 * batch over samples in a way that depends on B alone: outputs and gradients
 * are the same bit for bit at any thread count.
 */
#ifndef DDPM_NET_H
#define DDPM_NET_H

#include "ddpm/common.h"
#include "ddpm/mlp.h"
#include "ddpm/rng.h"
#include "ddpm/unet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration ------------------------------------------------------------ */

typedef enum { DDPM_ARCH_UNET, DDPM_ARCH_MLP, DDPM_ARCH_COUNT } ddpm_arch;

/* "unet", "mlp"; parse lists the valid names on error. */
const char *ddpm_arch_name(ddpm_arch arch);
int ddpm_arch_parse(const char *name, ddpm_arch *out, ddpm_error *err);

typedef struct ddpm_net_config {
    ddpm_arch arch;
    ddpm_unet_config unet;   /* arch == DDPM_ARCH_UNET; zero otherwise */
    ddpm_mlp_config mlp;     /* arch == DDPM_ARCH_MLP; zero otherwise */
} ddpm_net_config;

/* Presets of every architecture: "tiny", "small" (UNets for 28x28 images)
 * and "mlp" (2-D points).  Returns DDPM_ERR listing the valid names. */
int ddpm_net_preset(const char *name, ddpm_net_config *out, ddpm_error *err);
/* NULL-terminated list of preset names. */
extern const char *const ddpm_net_preset_names[];
/* The name of the preset cfg equals, or NULL. */
const char *ddpm_net_config_preset_name(const ddpm_net_config *cfg);

/* Checks the arch and its config; the message names the field. */
int ddpm_net_config_validate(const ddpm_net_config *cfg, ddpm_error *err);
/* True when the two configs describe the same network. */
bool ddpm_net_config_equal(const ddpm_net_config *a, const ddpm_net_config *b);
/* One-line human description, starting with the architecture. */
void ddpm_net_config_describe(const ddpm_net_config *cfg, char *buf, size_t cap);
/* The shape of one sample, (C, H, W): (in_channels, S, S) for a UNet,
 * (data_dim, 1, 1) for an MLP.  Input and output have the same shape. */
void ddpm_net_config_shape(const ddpm_net_config *cfg, int *C, int *H, int *W);
/* C * H * W */
size_t ddpm_net_config_sample_floats(const ddpm_net_config *cfg);

/* ---- the network -------------------------------------------------------------- */

typedef struct ddpm_net ddpm_net;

int ddpm_net_create(ddpm_net **out, const ddpm_net_config *cfg, ddpm_error *err);
void ddpm_net_free(ddpm_net *net);
const ddpm_net_config *ddpm_net_get_config(const ddpm_net *net);

typedef struct ddpm_param_info {
    char name[96];      /* PyTorch-style, e.g. "down.0.res.1.conv2.weight" */
    int ndim;
    int shape[4];
    size_t offset;      /* into the flat parameter array, in floats */
    size_t numel;
} ddpm_param_info;

size_t ddpm_net_num_params(const ddpm_net *net);
int ddpm_net_num_tensors(const ddpm_net *net);
const ddpm_param_info *ddpm_net_tensor(const ddpm_net *net, int i);
/* Index of the named tensor, or -1. */
int ddpm_net_find_tensor(const ddpm_net *net, const char *name);

/* PyTorch's default initialisation (uniform +-1/sqrt(fan_in) for weights and
 * biases), GroupNorm gamma = 1 and beta = 0, and zero for the layers that
 * close a residual (a ResBlock's last conv, the attention output projection,
 * an MLP block's fc2) and for the output layer, so that each block starts as
 * the identity (Ho et al.'s zero-initialised layers).  Deterministic in seed. */
void ddpm_net_init_params(const ddpm_net *net, float *params, uint64_t seed);

/* Multiply-add FLOPs (2 per MAC) of one forward pass for one sample: convs,
 * linears and attention products. */
double ddpm_net_forward_flops(const ddpm_net *net);

/* ---- running it ------------------------------------------------------------ */

typedef struct ddpm_net_workspace ddpm_net_workspace;

/* training = true also allocates activation gradients and backward scratch. */
int ddpm_net_workspace_create(ddpm_net_workspace **out, const ddpm_net *net, int max_batch,
                              bool training, ddpm_error *err);
void ddpm_net_workspace_free(ddpm_net_workspace *ws);
int ddpm_net_workspace_max_batch(const ddpm_net_workspace *ws);
/* From the next pass on, compute on at most n of the workspace's threads
 * (n <= 0: all of them), e.g. while a core is lent to something else; the
 * results are the same bit for bit (ddpm/threads.h).  Safe from any thread. */
void ddpm_net_workspace_limit_threads(ddpm_net_workspace *ws, int n);
/* Bytes held by the workspace (activations, gradients, scratch). */
size_t ddpm_net_workspace_bytes(const ddpm_net_workspace *ws);
/* Bytes a workspace of this size would hold, without creating it (with the
 * thread count of ddpm_get_threads()). */
size_t ddpm_net_workspace_bytes_for(const ddpm_net *net, int max_batch, bool training);
/* Bytes of the activations a forward pass of B samples keeps for backward:
 * the model's own memory need, the yardstick for a workspace's overhead. */
size_t ddpm_net_activation_bytes(const ddpm_net *net, int B);

/* Forward pass for B <= max_batch samples.  dropout_rng: NULL for inference
 * (dropout off); non-NULL in training (dropout on, masks drawn from it). */
void ddpm_net_forward(const ddpm_net *net, const float *params, ddpm_net_workspace *ws,
                      const float *x,   /* (B, C, H, W) */
                      const int *t,     /* (B) timesteps */
                      int B, ddpm_rng *dropout_rng);
/* The output of the last forward, (B, C, H, W), owned by ws. */
const float *ddpm_net_output(const ddpm_net_workspace *ws);

/* Backward pass of the last forward (same ws, same params, same B).
 * Accumulates into grads (num_params floats); zero them first yourself.
 * dx, if not NULL, receives the gradient with respect to x (accumulated). */
void ddpm_net_backward(const ddpm_net *net, const float *params, float *grads,
                       ddpm_net_workspace *ws, const float *dout /* (B, C, H, W) */,
                       float *dx);

/* ---- as a denoiser ------------------------------------------------------------ */

/* Binds weights and a workspace to a network, for ddpm_sample (ddpm/sampler.h). */
typedef struct ddpm_net_denoiser {
    const ddpm_net *net;
    const float *weights;
    ddpm_net_workspace *ws;   /* inference workspace; batches larger than its max are split */
} ddpm_net_denoiser;

/* A ddpm_denoise_fn: ctx is a ddpm_net_denoiser. */
int ddpm_net_denoise(void *ctx, const float *x, const int *t, int B, float *out, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
