/* models.c: the list of models to sample from (see models.h). */
#include "models.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz_util.h"

static int cmp_models(const void *a, const void *b)
{
    return strcmp(((const viz_model *)a)->name, ((const viz_model *)b)->name);
}

static int add(viz_models *m, int *cap, const char *name, const char *path, bool live, ddpm_error *err)
{
    if (m->n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        viz_model *it = realloc(m->items, sizeof *it * (size_t)nc);
        if (!it) return ddpm_fail(err, "out of memory listing models");
        m->items = it;
        *cap = nc;
    }
    viz_model *e = &m->items[m->n++];
    memset(e, 0, sizeof *e);
    viz_copy_str(e->name, sizeof e->name, name);
    viz_copy_str(e->path, sizeof e->path, path);
    e->live = live;
    return DDPM_OK;
}

int viz_models_scan(viz_models *m, const char *dir, const char *extra_path, ddpm_error *err)
{
    memset(m, 0, sizeof *m);
    int cap = 0;
    viz_copy_str(m->dir, sizeof m->dir, dir);
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *de;
        while ((de = readdir(dh)) != NULL) {
            const char *nm = de->d_name;
            size_t len = strlen(nm);
            const char *ext = ".safetensors";
            if (len <= strlen(ext) || strcmp(nm + len - strlen(ext), ext) != 0 || nm[0] == '.') continue;
            char name[64], path[4096];
            snprintf(name, sizeof name, "%.*s", (int)(len - strlen(ext) < 63 ? len - strlen(ext) : 63), nm);
            snprintf(path, sizeof path, "%.3000s/%.1000s", dir, nm);
            if (add(m, &cap, name, path, false, err) != DDPM_OK) {
                closedir(dh);
                return DDPM_ERR;
            }
        }
        closedir(dh);
    }
    if (m->n > 1) qsort(m->items, (size_t)m->n, sizeof *m->items, cmp_models);
    if (extra_path && *extra_path && viz_models_find(m, extra_path) < 0) {
        const char *base = strrchr(extra_path, '/');
        base = base ? base + 1 : extra_path;
        char name[64];
        viz_copy_str(name, sizeof name, base);
        char *dot = strstr(name, ".safetensors");
        if (dot && dot != name) *dot = '\0';
        /* a run folder's model.safetensors is better named by its folder */
        if (strcmp(name, "model") == 0 || strcmp(name, "ckpt") == 0) {
            char folder[4096];
            viz_copy_str(folder, sizeof folder, extra_path);
            char *slash = strrchr(folder, '/');
            if (slash) {
                *slash = '\0';
                const char *fb = strrchr(folder, '/');
                char tmp[64];
                snprintf(tmp, sizeof tmp, "%.40s/%.20s", fb ? fb + 1 : folder, name);
                viz_copy_str(name, sizeof name, tmp);
            }
        }
        if (add(m, &cap, name, extra_path, false, err) != DDPM_OK) return DDPM_ERR;
    }
    m->n_files = m->n;
    return add(m, &cap, "live", "", true, err);
}

void viz_models_free(viz_models *m)
{
    if (!m) return;
    for (int i = 0; i < m->n; i++)
        if (m->items[i].loaded) ddpm_checkpoint_free(&m->items[i].ck);
    free(m->items);
    memset(m, 0, sizeof *m);
}

int viz_models_load(viz_models *m, int i, ddpm_error *err)
{
    DDPM_ASSERT(i >= 0 && i < m->n);
    viz_model *e = &m->items[i];
    if (e->live || e->loaded) return DDPM_OK;
    if (e->broken) return ddpm_fail(err, "%s", e->error);
    if (ddpm_checkpoint_load(&e->ck, e->path, DDPM_CKPT_WEIGHTS, err) != DDPM_OK) {
        e->broken = true;
        viz_copy_str(e->error, sizeof e->error, err->msg);
        return DDPM_ERR;
    }
    e->loaded = true;
    return DDPM_OK;
}

int viz_models_find(const viz_models *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->items[i].name, name) == 0 || (m->items[i].path[0] && strcmp(m->items[i].path, name) == 0))
            return i;
    return -1;
}

int viz_models_live(const viz_models *m) { return m->n - 1; }

bool viz_model_file_is_points(const char *path)
{
    ddpm_checkpoint ck;
    ddpm_error err;
    if (ddpm_checkpoint_load(&ck, path, DDPM_CKPT_WEIGHTS, &err) != DDPM_OK) return false;
    int C, H, W;
    ddpm_net_config_shape(&ck.run.net, &C, &H, &W);
    ddpm_checkpoint_free(&ck);
    return H == 1 && W == 1;
}

void viz_model_describe(const viz_model *mdl, char *buf, size_t cap)
{
    if (!mdl->loaded) {
        snprintf(buf, cap, "%s", mdl->live ? "live" : mdl->broken ? "unreadable" : "not loaded");
        return;
    }
    const ddpm_run_config *r = &mdl->ck.run;
    snprintf(buf, cap, "%s-pred, %s, T=%d, %s, step %lld", ddpm_prediction_name(r->prediction),
             ddpm_schedule_name(r->schedule.kind), r->schedule.T, r->preset, (long long)mdl->ck.step);
}
