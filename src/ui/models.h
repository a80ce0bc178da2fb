/* models.h: the models the visualizer can sample from: the bundled
 * checkpoints found in a folder (assets/models/ *.safetensors), a model
 * given with --model, and the live network that trains in the background.
 *
 *   viz_models m;
 *   viz_models_scan(&m, dir, extra_path);       // names only; nothing loaded yet
 *   if (viz_models_load(&m, i, &err) != 0) banner(err.msg);   // lazy, cached
 *   ... m.items[i].ck.net, ddpm_checkpoint_weights(&m.items[i].ck) ...
 *   viz_models_free(&m);
 *
 * Loaded checkpoints stay loaded until viz_models_free, so the sampler may
 * borrow their network and weights for as long as it runs.
 */
#ifndef VIZ_MODELS_H
#define VIZ_MODELS_H

#include "ddpm/checkpoint.h"

typedef struct viz_model {
    char name[64];           /* "eps-linear", or "live" */
    char path[4096];         /* "" for the live network */
    bool live;
    bool loaded, broken;
    char error[1024];        /* why it is broken */
    ddpm_checkpoint ck;      /* valid when loaded */
} viz_model;

typedef struct viz_models {
    viz_model *items;
    int n;                   /* the live entry is always the last */
    int n_files;             /* bundled + extra, before the live entry */
    char dir[4096];
} viz_models;

/* Lists dir's *.safetensors (sorted by name) and extra_path (if not NULL and
 * not already listed), then the live entry.  A missing dir lists nothing.
 * Returns DDPM_ERR only when out of memory. */
int viz_models_scan(viz_models *m, const char *dir, const char *extra_path, ddpm_error *err);
void viz_models_free(viz_models *m);

/* Loads entry i (a no-op when loaded or live).  On failure the entry is
 * marked broken, err says why, and later calls fail the same way. */
int viz_models_load(viz_models *m, int i, ddpm_error *err);

/* Index of the entry named `name` (or whose path is `name`), or -1. */
int viz_models_find(const viz_models *m, const char *name);
int viz_models_live(const viz_models *m);

/* True when path is a checkpoint whose network makes points (the 2D world). */
bool viz_model_file_is_points(const char *path);

/* "eps, linear, T=1000, small" into buf. */
void viz_model_describe(const viz_model *mdl, char *buf, size_t cap);

#endif
