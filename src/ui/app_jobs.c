/* app_jobs.c: the sliders -> sampling jobs, and which trajectory is on
 * screen: submitting a job when what it would sample changed (or the live
 * weights moved on), switching to its result without flicker, and the view
 * of one frame that every panel reads. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

int viz_result_steps(const viz_result *r)
{
    int S = 1;
    for (int i = 0; i < r->job.n_sides; i++)
        if (r->traj[i].S > S) S = r->traj[i].S;
    return S;
}

/* A job on both cores holds the training; one on one core lends it one. */
static void hold_trainer(void *ctx, int threads, bool on)
{
    if (threads > 1) viz_trainer_yield(ctx, on);
    else viz_trainer_lend(ctx, on);
}

void viz_app_submit_jobs(viz_app *a)
{
    if (!a->sampler) return;
    const viz_model *m = viz_app_model(a);
    const viz_snap *snap = viz_app_scrubbed(a); /* the scrubber: a snapshot of the training */
    const uint64_t live_version = a->trainer ? viz_weights_version(viz_trainer_weights(a->trainer)) : 0;
    const bool changed = !a->has_submitted || !viz_params_same_job(&a->p, &a->submitted);
    bool refresh = false;
    if (!changed && m->live && !snap && live_version != a->submitted_weights && !viz_sampler_busy(a->sampler))
        refresh = a->now - a->submitted_at >= viz_app_refresh_interval(a);
    if (!changed && !refresh) return;
    if (m->live && !a->trainer) return;
    viz_job job = {0};
    job.live = viz_trainer_weights(a->trainer);
    job.snap_step = snap ? snap->ck.step : -1;
    job.snap_seconds = snap ? snap->ck.seconds : 0.0;
    if (!m->live || snap) {
        const ddpm_checkpoint *ck = snap ? &snap->ck : &m->ck;
        job.net = ck->net;
        job.weights = ddpm_checkpoint_weights(ck);
        job.pred = ck->run.prediction;
    }
    job.n_sides = viz_job_sides(&a->p, &viz_app_run_config(a)->schedule, viz_app_T(a), job.sides);
    job.seed = a->p.seed;
    job.first_index = viz_job_first_index(&a->p);
    job.B = viz_job_batch(&a->p);
    job.focus = job.B > 1 ? a->p.focus : 0;
    /* Two cores.  What the user asked for takes both, and a running trainer
     * holds between steps until the trajectory is done (one core each would
     * leave a 4x4 grid of the bundled model at ~3.4 s instead of ~1.2 s on a
     * two-core laptop).  The once-a-second refresh that follows the live
     * training shares instead: one core each, training never held. */
    const bool training = a->train.state == VIZ_TRAIN_RUNNING;
    job.threads = SDL_GetCPUCount() < 2 || (refresh && training) ? 1 : 2;
    if (a->trainer) {
        job.hold = hold_trainer;
        job.hold_ctx = a->trainer;
    }
    viz_sampler_submit(a->sampler, &job);
    a->submitted = a->p;
    a->has_submitted = true;
    a->submitted_weights = live_version;
    a->submitted_at = a->now;
}

/* Following a running training, the samples are refreshed on one core (the
 * training lends it: hold_trainer) at most once a second, and a refresh
 * computes at most half of the time: a 4x4 grid that takes 1.5 s comes back
 * every 3 s.  So the training keeps at least three quarters of the machine
 * whatever the view (issue 16: the grid starved it 5x), and the panels say
 * how often they refresh. */
double viz_app_refresh_interval(const viz_app *a)
{
    if (a->train.state != VIZ_TRAIN_RUNNING) return 0.0;
    const double every = 2.0 * a->refresh_cost;
    return every > 1.0 ? every : 1.0;
}

/* What a job of the current settings costs on one core, from the last one
 * that finished. */
static void note_cost(viz_app *a, const viz_result *r, const viz_progress *pr)
{
    a->refresh_cost = pr->seconds * r->job.threads;
}

/* With --fps: one line per finished job, for performance reports. */
static void log_job(viz_app *a)
{
    if (!a->show_fps || !a->shown || a->shown->id == a->reported_job) return;
    viz_progress pr;
    viz_sampler_progress(a->sampler, a->shown, &pr);
    if (pr.state != VIZ_JOB_DONE) return;
    a->reported_job = a->shown->id;
    const viz_job *j = &a->shown->job;
    fprintf(stderr, "ddpm viz: job %llu: %d image(s) x %d side(s), %s, in %.2f s on %d thread(s)%s\n",
            (unsigned long long)a->shown->id, j->B, j->n_sides, j->sides[0].label_ascii, pr.seconds, j->threads,
            a->train.state == VIZ_TRAIN_RUNNING ? " while training" : "");
}

/* Shows the newest result once it can show the current frame, or after a
 * moment: dragging a slider then does not flash half-finished trajectories. */
void viz_app_update_shown(viz_app *a)
{
    log_job(a);
    if (!a->sampler) return;
    if (a->shown && a->shown->id != a->costed_job) {
        viz_progress pr;
        viz_sampler_progress(a->sampler, a->shown, &pr);
        if (pr.state == VIZ_JOB_DONE) {
            note_cost(a, a->shown, &pr);
            a->costed_job = a->shown->id;
        }
    }
    viz_result *newest = viz_sampler_acquire(a->sampler);
    if (!newest) return;
    if (newest == a->shown) {
        viz_result_release(newest);
        return;
    }
    if (newest->id != a->newest_id) {
        a->newest_id = newest->id;
        a->newest_since = a->now;
    }
    viz_progress pr;
    viz_sampler_progress(a->sampler, newest, &pr);
    const int S_new = viz_result_steps(newest);
    const int S_old = a->shown ? viz_result_steps(a->shown) : S_new;
    int need = a->pb.phase == VIZ_PHASE_REVERSE ? viz_playback_frame(&a->pb, S_old) : 0;
    need = (int)lrint((double)need * newest->traj[0].S / (S_old > 0 ? S_old : 1));
    const bool ready = pr.state != VIZ_JOB_RUNNING || pr.done[0] >= need || a->now - a->newest_since > 0.35 ||
                       a->headless;
    if (!a->shown || ready) {
        viz_result_release(a->shown);
        a->shown = newest;
        if (a->last_S && a->last_S != S_new) viz_playback_remap(&a->pb, a->last_S, S_new);
        a->last_S = S_new;
        a->dirty = true;
    } else {
        viz_result_release(newest);
    }
}

/* The view of frame k (< 0: the playback's frame, in proportion to the steps;
 * else the frame of timestep near_t) of one side. */
static bool frame_view(viz_app *a, int side, bool by_t, int near_t, viz_frame_view *v)
{
    memset(v, 0, sizeof *v);
    const viz_result *r = a->shown;
    if (!r || side >= r->job.n_sides || !r->traj[side].x_t) return false;
    viz_progress pr;
    viz_sampler_progress(a->sampler, r, &pr);
    const viz_traj *tr = &r->traj[side];
    const int done = pr.done[side];
    int k;
    if (by_t) {
        k = viz_nearest_frame(tr->t, done + 1, near_t);
    } else {
        const int S_play = viz_result_steps(r);
        const int frame = viz_playback_frame(&a->pb, S_play);
        k = (int)lrint((double)frame * tr->S / S_play);
    }
    if (k > done) k = done;
    const size_t fr = (size_t)r->B * r->per;
    v->r = r;
    v->tr = tr;
    v->side = side;
    v->k = k;
    v->S = tr->S;
    v->done = done;
    v->complete = done == tr->S;
    v->t = tr->t[k];
    v->x_t = tr->x_t + (size_t)k * fr;
    if (k < done) {
        v->x0_hat = tr->x0_hat + (size_t)k * fr;
        v->x_prev = tr->x_t + (size_t)(k + 1) * fr;
        v->step = k;
    } else if (k == tr->S) {
        v->x0_hat = v->x_t;
        v->step = tr->S - 1;
    } else {
        v->step = -1;
    }
    return true;
}

int viz_app_lead_side(const viz_app *a)
{
    const viz_result *r = a->shown;
    if (!r || r->job.n_sides < 2) return 0;
    return r->traj[1].S > r->traj[0].S ? 1 : 0;
}

bool viz_app_frame_view(viz_app *a, int side, viz_frame_view *v)
{
    const int lead = viz_app_lead_side(a);
    const viz_result *r = a->shown;
    /* sides of different step counts: the lead follows the playback, the other
     * shows its visited frame of nearest t */
    if (r && r->job.n_sides == 2 && side != lead && r->traj[0].S != r->traj[1].S) {
        viz_frame_view l;
        if (!frame_view(a, lead, false, 0, &l)) return false;
        return frame_view(a, side, true, l.t, v);
    }
    return frame_view(a, side, false, 0, v);
}


int viz_app_current_t(viz_app *a)
{
    const int T = a->sched_ok ? a->sched.T : viz_app_T(a);
    if (a->pb.phase == VIZ_PHASE_FORWARD) return viz_playback_forward_t(&a->pb, T);
    viz_frame_view v;
    if (viz_app_frame_view(a, viz_app_lead_side(a), &v)) return v.t;
    if (a->n_ts > 0) return a->ts[0];
    return T - 1;
}
