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
void viz_app_hold_trainer(void *ctx, int threads, bool on)
{
    if (threads > 1) viz_trainer_yield(ctx, on);
    else viz_trainer_lend(ctx, on);
}

/* Side i's model in a job: a loaded checkpoint, a snapshot of the training
 * (the scrubber, on A's live model), or the live weights (net NULL). */
static viz_job_model job_model(viz_app *a, int index, const viz_snap *snap)
{
    const viz_model *m = &a->models.items[index];
    viz_job_model jm = {0};
    if (!m->live || snap) {
        const ddpm_checkpoint *ck = snap ? &snap->ck : &m->ck;
        jm.net = ck->net;
        jm.weights = ddpm_checkpoint_weights(ck);
        jm.pred = ck->run.prediction;
    }
    return jm;
}

void viz_app_submit_jobs(viz_app *a)
{
    if (!a->sampler || a->p.view == VIZ_VIEW_STUDY) return; /* the study has its own worker */
    const viz_model *m = viz_app_model(a);
    const viz_model *mb = viz_app_compares_models(a) ? viz_app_model_b(a) : m;
    const viz_snap *snap = viz_app_scrubbed(a); /* the scrubber: a snapshot of the training */
    const uint64_t live_version = a->trainer ? viz_weights_version(viz_trainer_weights(a->trainer)) : 0;
    const bool changed = !a->has_submitted || !viz_params_same_job(&a->p, &a->submitted) ||
                         (viz_job_start_t(&a->p) > 0 && a->fwd_source != a->submitted_source);
    const bool follows_live = (m->live && !snap) || mb->live;
    bool refresh = false;
    if (!changed && follows_live && live_version != a->submitted_weights && !viz_sampler_busy(a->sampler))
        refresh = a->now - a->submitted_at >= viz_app_refresh_interval(a);
    if (!changed && !refresh) return;
    if ((m->live || mb->live) && !a->trainer) return;
    if (!mb->live && !mb->loaded) return; /* B's model is loading, or broken (the banner says so) */
    viz_job job = {0};
    job.live = viz_trainer_weights(a->trainer);
    job.snap_step = snap ? snap->ck.step : -1;
    job.snap_seconds = snap ? snap->ck.seconds : 0.0;
    const ddpm_run_config *run_b = viz_app_run_config_b(a);
    job.n_sides = viz_job_sides(&a->p, &viz_app_run_config(a)->schedule, viz_app_T(a), &run_b->schedule, job.sides);
    for (int i = 0; i < job.n_sides; i++) {
        job.model[i] = job_model(a, job.sides[i].model, i == 0 || job.sides[i].model == a->p.model ? snap : NULL);
        if (viz_app_compares_models(a)) viz_side_name_model(&job.sides[i], a->models.items[job.sides[i].model].name);
    }
    /* two models of different schedules: the same t is not the same noise */
    job.by_level = job.n_sides == 2 && viz_app_compares_models(a) &&
                   memcmp(&job.sides[0].schedule, &job.sides[1].schedule, sizeof job.sides[0].schedule) != 0;
    job.seed = a->p.seed;
    job.first_index = viz_job_first_index(&a->p);
    /* a round trip: the forward panel's digit, noised with its fixed epsilon to
     * t (the x_t that panel shows at t), is where the run starts */
    job.start_t = viz_job_start_t(&a->p);
    if (job.start_t > 0) {
        const size_t per = (size_t)a->digits.height * a->digits.width;
        if (!a->have_digits || !a->fwd_x0 || !a->sched_ok || per > VIZ_ROUNDTRIP_PER || job.n_sides != 1) {
            job.start_t = 0;
        } else { /* update_state brought the forward digit up to date before this */
            ddpm_q_sample(&a->sched, job.start_t, a->fwd_x0, a->fwd_eps, job.x_start, per);
        }
    }
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
        job.hold = viz_app_hold_trainer;
        job.hold_ctx = a->trainer;
    }
    viz_sampler_submit(a->sampler, &job);
    a->submitted = a->p;
    a->submitted_source = a->fwd_source;
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
    if (viz_app_replaying(a)) return 1.0; /* by the recording's clock, not by measured costs */
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

/* How a side's frame is found: the playback's (in proportion to the steps),
 * the nearest t to another side's, or the nearest noise level. */
typedef enum { BY_PLAYBACK, BY_T, BY_LEVEL } align_by;

/* The view of one side's frame, found as `by` says (near_t, near_abar: the lead side's). */
static bool frame_view(viz_app *a, int side, align_by by, int near_t, double near_abar, viz_frame_view *v)
{
    memset(v, 0, sizeof *v);
    const viz_result *r = a->shown;
    if (!r || side >= r->job.n_sides || !r->traj[side].x_t) return false;
    viz_progress pr;
    viz_sampler_progress(a->sampler, r, &pr);
    const viz_traj *tr = &r->traj[side];
    const int done = pr.done[side];
    int k;
    if (by == BY_T) {
        k = viz_nearest_frame(tr->t, done + 1, near_t);
    } else if (by == BY_LEVEL) {
        k = viz_nearest_level(tr->abar, done + 1, near_abar);
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
    v->abar = tr->abar[k];
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

bool viz_app_aligned_by_level(const viz_app *a)
{
    const viz_result *r = a->shown;
    return r && r->job.n_sides == 2 && r->job.by_level;
}

bool viz_app_frame_view(viz_app *a, int side, viz_frame_view *v)
{
    const int lead = viz_app_lead_side(a);
    const viz_result *r = a->shown;
    /* sides of different step counts: the lead follows the playback, the other
     * shows its visited frame of nearest t; of different schedules (two
     * models), of nearest noise level */
    const bool by_level = viz_app_aligned_by_level(a);
    if (r && r->job.n_sides == 2 && side != lead && (r->traj[0].S != r->traj[1].S || by_level)) {
        viz_frame_view l;
        if (!frame_view(a, lead, BY_PLAYBACK, 0, 0.0, &l)) return false;
        return frame_view(a, side, by_level ? BY_LEVEL : BY_T, l.t, l.abar, v);
    }
    return frame_view(a, side, BY_PLAYBACK, 0, 0.0, v);
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
