/* app_study.c: the study view's jobs: the sliders and lists -> a study job
 * for the selected model (or a snapshot of its training), and the newest
 * result the panel shows. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "viz_util.h"

/* The name `ddpm sweep` gives a checkpoint in its CSV: the file name without folders. */
static const char *sweep_name(const viz_model *m)
{
    if (m->live || !m->path[0]) return "live";
    const char *slash = strrchr(m->path, '/');
    return slash ? slash + 1 : m->path;
}

void viz_app_update_study(viz_app *a)
{
    if (!a->study) return;
    /* leaving the view stops its job (and gives the training its core back); coming back re-runs it */
    if (a->p.view != VIZ_VIEW_STUDY && a->study_has_submitted) {
        viz_study_cancel(a->study);
        a->study_has_submitted = false;
    }
    if (a->p.view == VIZ_VIEW_STUDY && !viz_app_points(a) &&
        (!a->study_has_submitted || !viz_params_same_study(&a->p, &a->study_submitted))) {
        const viz_model *m = viz_app_model(a);
        const viz_snap *snap = viz_app_scrubbed(a);
        if ((m->loaded || (m->live && a->trainer)) && !m->broken) {
            viz_study_job job = {0};
            if (!m->live || snap) {
                const ddpm_checkpoint *ck = snap ? &snap->ck : &m->ck;
                job.model = (viz_job_model){ck->net, ddpm_checkpoint_weights(ck), ck->run.prediction};
            }
            job.live = viz_trainer_weights(a->trainer);
            viz_copy_str(job.model_name, sizeof job.model_name, sweep_name(m));
            viz_copy_str(job.model_path, sizeof job.model_path, m->live ? "" : m->path);
            job.schedule = viz_app_run_config(a)->schedule; /* the model's own, as ddpm sweep */
            job.base = viz_sampler_config(&a->p);
            job.seed = a->p.seed;
            job.n_eta = a->p.n_study_eta;
            job.n_steps = a->p.n_study_steps;
            memcpy(job.etas, a->p.study_eta, sizeof job.etas);
            memcpy(job.steps, a->p.study_steps, sizeof job.steps);
            job.n_score = a->p.study_n;
            /* both cores unless the training runs: then one, lent by it */
            const bool training = a->train.state == VIZ_TRAIN_RUNNING;
            job.threads = SDL_GetCPUCount() < 2 || training ? 1 : 2;
            if (a->trainer) {
                job.hold = viz_app_hold_trainer;
                job.hold_ctx = a->trainer;
            }
            viz_study_submit(a->study, &job);
            a->study_submitted = a->p;
            a->study_has_submitted = true;
        }
    }
    viz_study_result *r = viz_study_acquire(a->study);
    if (r == a->study_shown) {
        viz_study_release(r);
        return;
    }
    viz_study_release(a->study_shown);
    a->study_shown = r;
    a->dirty = true;
}

void viz_study_command(const viz_app *a, const viz_study_result *r, char *buf, size_t cap)
{
    (void)a;
    const viz_study_job *j = &r->job;
    char etas[160] = "", steps[160] = "";
    for (int i = 0; i < j->n_eta; i++) {
        const size_t n = strlen(etas);
        snprintf(etas + n, sizeof etas - n, "%s%g", i ? "," : "", j->etas[i]);
    }
    for (int i = 0; i < j->n_steps; i++) {
        const size_t n = strlen(steps);
        snprintf(steps + n, sizeof steps - n, "%s%d", i ? "," : "", j->steps[i]);
    }
    const ddpm_sampler_config *b = &j->base;
    if (!j->model_path[0]) { /* the live weights: save them first */
        snprintf(buf, cap, "the live model: save it (Ctrl+S) and run ddpm sweep on the file");
        return;
    }
    /* a path under the working folder is shown relative to it: shorter, and runnable here */
    const char *path = j->model_path;
    char cwd[2048];
    if (getcwd(cwd, sizeof cwd) && strncmp(path, cwd, strlen(cwd)) == 0 && path[strlen(cwd)] == '/')
        path += strlen(cwd) + 1;
    snprintf(buf, cap, "ddpm sweep %s --eta %s --steps %s --score-n %d --seed %llu%s%s%s%s%s%s", path, etas,
             steps, j->n_score, (unsigned long long)j->seed, b->sampler == DDPM_SAMPLER_DDPM ? " --sampler ddpm" : "",
             b->spacing != DDPM_SPACING_LEADING ? " --spacing " : "",
             b->spacing != DDPM_SPACING_LEADING ? ddpm_spacing_name(b->spacing) : "",
             b->sampler == DDPM_SAMPLER_DDPM && b->variance == DDPM_VARIANCE_LARGE ? " --variance large" : "",
             b->clip_x0 ? " --clip" : "", "");
}
