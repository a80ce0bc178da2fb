/* app_rtcurve.c: the round trip's error against t, on demand: how much of
 * the digit the model "remembers" from each noise level.  For t = 0.1 T,
 * 0.2 T, ..., 0.9 T the forward panel's x0 is noised to t with its fixed
 * epsilon and sampled back with the round trip's settings (ddpm_sample with
 * start_t, the same run as the reverse panel's), and the mean |result - x0|
 * is kept.  It runs on its own thread with its own workspace (about half a
 * second for a bundled model on two cores), so the window stays fluid; the
 * UI reads the points as they come.  Models that train live are left out:
 * their weights change under it. */
#include <SDL.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddpm/sampler.h"

struct viz_rtcurve {
    SDL_Thread *thread;
    atomic_int done;             /* points finished */
    atomic_bool cancel;
    /* inputs, owned copies (the net is a loaded model's: loaded until exit) */
    const ddpm_net *net;
    const float *weights;
    ddpm_prediction pred;
    ddpm_schedule sched;
    ddpm_sampler_config cfg;
    uint64_t seed;
    float *x0, *eps;             /* (per) */
    size_t per;
    int H, W;
    uint64_t key;                /* what it was computed for */
    /* outputs */
    int ts[VIZ_RTCURVE_N];
    double err[VIZ_RTCURVE_N];
    char error[256];
};

static bool keep_going(void *ctx, const ddpm_step_view *v)
{
    (void)v;
    return !atomic_load(&((viz_rtcurve *)ctx)->cancel);
}

static int curve_main(void *arg)
{
    viz_rtcurve *c = arg;
    ddpm_net_workspace *ws = NULL;
    ddpm_error err = {0};
    float *xt = malloc(sizeof(float) * c->per * 2);
    if (!xt || ddpm_net_workspace_create(&ws, c->net, 1, false, &err) != DDPM_OK) {
        snprintf(c->error, sizeof c->error, "%.200s", xt ? err.msg : "out of memory");
        free(xt);
        atomic_store(&c->done, -1);
        return 0;
    }
    float *out = xt + c->per;
    ddpm_net_denoiser den = {c->net, c->weights, ws};
    for (int i = 0; i < VIZ_RTCURVE_N && !atomic_load(&c->cancel); i++) {
        const int t = c->ts[i];
        ddpm_q_sample(&c->sched, t, c->x0, c->eps, xt, c->per);
        ddpm_sample_request req = {.schedule = &c->sched, .cfg = c->cfg, .pred = c->pred, .seed = c->seed, .start_t = t};
        if (ddpm_sample(&req, ddpm_net_denoise, &den, 1, 1, c->H, c->W, out, xt, keep_going, c, &err) != DDPM_OK) break;
        double e = 0;
        for (size_t k = 0; k < c->per; k++) e += fabs((double)out[k] - c->x0[k]);
        c->err[i] = e / (double)c->per;
        atomic_store(&c->done, i + 1);
    }
    ddpm_net_workspace_free(ws);
    free(xt);
    return 0;
}

static void curve_free(viz_rtcurve *c)
{
    if (!c) return;
    if (c->thread) {
        atomic_store(&c->cancel, true);
        SDL_WaitThread(c->thread, NULL);
    }
    ddpm_schedule_free(&c->sched);
    free(c->x0);
    free(c);
}

void viz_app_rtcurve_stop(viz_app *a)
{
    curve_free(a->rtcurve);
    a->rtcurve = NULL;
}

uint64_t viz_app_rtcurve_key(const viz_app *a)
{
    const viz_params *p = &a->p;
    uint64_t eta_bits;
    memcpy(&eta_bits, &p->eta, sizeof eta_bits);
    uint64_t h = viz_key(a->fwd_source, (uint64_t)p->model, p->seed, (uint64_t)p->schedule);
    h = viz_key(h, (uint64_t)p->sampler * 131 + (uint64_t)p->spacing * 7 + (uint64_t)p->variance * 3 + p->clip_x0,
                (uint64_t)p->steps, eta_bits);
    return h;
}

bool viz_app_rtcurve_start(viz_app *a)
{
    const viz_model *m = viz_app_model(a);
    if (!m->loaded || m->live || !a->fwd_x0 || !a->sched_ok || !a->have_digits) return false;
    viz_app_rtcurve_stop(a);
    viz_rtcurve *c = calloc(1, sizeof *c);
    if (!c) return false;
    c->per = (size_t)a->digits.width * a->digits.height;
    c->H = a->digits.height, c->W = a->digits.width;
    c->x0 = malloc(sizeof(float) * c->per * 2);
    ddpm_error err = {0};
    if (!c->x0 || ddpm_schedule_init(&c->sched, &a->sched_cfg, &err) != DDPM_OK) {
        free(c->x0);
        free(c);
        return false;
    }
    c->eps = c->x0 + c->per;
    memcpy(c->x0, a->fwd_x0, sizeof(float) * c->per);
    memcpy(c->eps, a->fwd_eps, sizeof(float) * c->per);
    c->net = m->ck.net;
    c->weights = ddpm_checkpoint_weights(&m->ck);
    c->pred = m->ck.run.prediction;
    c->cfg = viz_sampler_config(&a->p);
    if (c->cfg.steps > c->sched.T) c->cfg.steps = c->sched.T;
    c->seed = a->p.seed;
    c->key = viz_app_rtcurve_key(a);
    for (int i = 0; i < VIZ_RTCURVE_N; i++) c->ts[i] = (int)((long)c->sched.T * (i + 1) / (VIZ_RTCURVE_N + 1));
    atomic_init(&c->done, 0);
    atomic_init(&c->cancel, false);
    c->thread = SDL_CreateThread(curve_main, "ddpm-rtcurve", c);
    if (!c->thread) {
        curve_free(c);
        return false;
    }
    a->rtcurve = c;
    return true;
}

int viz_app_rtcurve_points(const viz_app *a, const int **ts, const double **err)
{
    const viz_rtcurve *c = a->rtcurve;
    if (!c || c->key != viz_app_rtcurve_key(a)) return 0;
    *ts = c->ts;
    *err = c->err;
    const int n = atomic_load(&((viz_rtcurve *)c)->done);
    return n < 0 ? 0 : n;
}
