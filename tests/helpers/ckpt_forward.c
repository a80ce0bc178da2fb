/* ckpt_forward.c: a helper of tests/test_ddp.py (not a test by itself).
 *
 *   ckpt_forward CHECKPOINT IO.safetensors
 *
 * Loads CHECKPOINT the way `ddpm sample` does (every check of
 * ddpm_checkpoint_load), runs the C forward pass with its sampling weights on
 * IO's input.x (B, C, H, W) and input.t (B), and compares with IO's
 * expect.out, PyTorch's output on the same weights.  Prints the preset C
 * names for the network, the step, the groups and the error; exit 0 when
 * max |C - PyTorch| <= 1e-4 * max(1, max |PyTorch|), 1 when not, 2 when a
 * file does not load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ddpm/checkpoint.h"
#include "ddpm/safetensors.h"

static float *read_all(const ddpm_safetensors *f, const char *name, int64_t *numel, int64_t *first_dim,
                       ddpm_error *err)
{
    const ddpm_st_tensor *t = ddpm_safetensors_find(f, name);
    if (!t) {
        ddpm_fail(err, "no tensor '%s'", name);
        return NULL;
    }
    *numel = ddpm_st_numel(t);
    *first_dim = t->shape[0];
    float *buf = malloc(sizeof(float) * (size_t)(*numel ? *numel : 1));
    if (!buf || ddpm_safetensors_read_f32(f, name, t->shape, t->ndim, buf, err) != DDPM_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ckpt_forward CHECKPOINT IO.safetensors\n");
        return 2;
    }
    ddpm_error err = {0};
    ddpm_checkpoint ck;
    if (ddpm_checkpoint_load(&ck, argv[1], DDPM_CKPT_WEIGHTS, &err) != DDPM_OK) {
        fprintf(stderr, "ckpt_forward: %s\n", err.msg);
        return 2;
    }
    ddpm_safetensors *io = NULL;
    float *x = NULL, *tf = NULL, *expect = NULL;
    int *t = NULL;
    ddpm_net_workspace *ws = NULL;
    int rc = 2;
    int64_t nx, B, nt, bt, ne, be;
    if (ddpm_safetensors_open(&io, argv[2], (size_t)1 << 28, &err) != DDPM_OK ||
        !(x = read_all(io, "input.x", &nx, &B, &err)) || !(tf = read_all(io, "input.t", &nt, &bt, &err)) ||
        !(expect = read_all(io, "expect.out", &ne, &be, &err))) {
        fprintf(stderr, "ckpt_forward: %s\n", err.msg);
        goto done;
    }
    if (nt != B || ne != nx || nx != B * (int64_t)ddpm_net_config_sample_floats(&ck.run.net)) {
        fprintf(stderr, "ckpt_forward: input shapes do not match the network\n");
        goto done;
    }
    t = malloc(sizeof(int) * (size_t)B);
    for (int64_t b = 0; b < B; b++) t[b] = (int)tf[b];
    if (ddpm_net_workspace_create(&ws, ck.net, (int)B, false, &err) != DDPM_OK) {
        fprintf(stderr, "ckpt_forward: %s\n", err.msg);
        goto done;
    }
    ddpm_net_forward(ck.net, ddpm_checkpoint_weights(&ck), ws, x, t, (int)B, NULL);
    const float *out = ddpm_net_output(ws);
    double max_err = 0.0, max_ref = 0.0;
    for (int64_t i = 0; i < nx; i++) {
        max_err = fmax(max_err, fabs((double)out[i] - expect[i]));
        max_ref = fmax(max_ref, fabs((double)expect[i]));
    }
    const double tol = 1e-4 * fmax(1.0, max_ref);
    printf("preset %s step %lld groups%s%s%s max|out| %.4g max|C - torch| %.3g (tolerance %.3g)\n", ck.run.preset,
           (long long)ck.step, (ck.groups & DDPM_CKPT_EMA) ? " ema" : "", (ck.groups & DDPM_CKPT_MODEL) ? " model" : "",
           (ck.groups & DDPM_CKPT_OPTIM) ? " adam" : "", max_ref, max_err, tol);
    rc = max_err <= tol ? 0 : 1;
done:
    ddpm_net_workspace_free(ws);
    free(t);
    free(x);
    free(tf);
    free(expect);
    ddpm_safetensors_close(io);
    ddpm_checkpoint_free(&ck);
    return rc;
}
