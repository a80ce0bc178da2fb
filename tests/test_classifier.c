/* test_classifier.c: the digit classifier's gradients against finite
 * differences; training lowers the loss and repeats bit for bit; the file
 * round-trips and damaged files are refused with the fix in the message;
 * the bundled classifier reaches its recorded held-out accuracy. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/classifier.h"
#include "ddpm/rng.h"
#include "ddpm/safetensors.h"
#include "ddpm/threads.h"

enum { PER_IMAGE = DDPM_CLASSIFIER_SIZE * DDPM_CLASSIFIER_SIZE };

static void check_table(void)
{
    CHECK(ddpm_classifier_num_params() == 449194, "%zu parameters", ddpm_classifier_num_params());
    size_t at = 0;
    for (int i = 0; i < ddpm_classifier_num_tensors(); i++) {
        const ddpm_classifier_tensor_info *t = ddpm_classifier_tensor(i);
        CHECK(t->offset == at, "tensor %s at %zu, expected %zu", t->name, t->offset, at);
        at += t->numel;
    }
    CHECK(at == ddpm_classifier_num_params(), "the table does not tile the parameters");
    CHECK(strcmp(ddpm_classifier_tensor(6)->name, "fc1.weight") == 0 &&
              ddpm_classifier_tensor(6)->shape[0] == DDPM_CLASSIFIER_FEATURES &&
              ddpm_classifier_tensor(6)->shape[1] == 3136,
          "fc1.weight");
}

/* Central differences of the mean cross-entropy against backward, for the
 * largest-gradient entries and a few random ones of every tensor. */
static void check_gradients(void)
{
    enum { B = 3 };
    ddpm_classifier c;
    ddpm_classifier_init(&c, 5);
    float *x = malloc(sizeof(float) * B * PER_IMAGE);
    ddpm_rng r;
    ddpm_rng_init(&r, 1, 0);
    for (int i = 0; i < B * PER_IMAGE; i++) x[i] = (float)(ddpm_rng_uniform(&r) * 2 - 1);
    const uint8_t labels[B] = {3, 7, 0};
    ddpm_classifier_workspace *ws;
    ddpm_error err = {0};
    CHECK(ddpm_classifier_workspace_create(&ws, B, true, &err) == 0, "%s", err.msg);
    const size_t n = ddpm_classifier_num_params();
    float *g = calloc(n, sizeof(float));
    ddpm_classifier_forward(c.params, ws, x, labels, B, NULL);
    ddpm_classifier_backward(c.params, g, ws);
    int checked = 0;
    for (int ti = 0; ti < ddpm_classifier_num_tensors(); ti++) {
        const ddpm_classifier_tensor_info *t = ddpm_classifier_tensor(ti);
        size_t idx[6];
        size_t top = t->offset;
        for (size_t k = t->offset; k < t->offset + t->numel; k++)
            if (fabsf(g[k]) > fabsf(g[top])) top = k;
        idx[0] = top;
        for (int k = 1; k < 6; k++) idx[k] = t->offset + ddpm_rng_below(&r, (uint32_t)t->numel);
        for (int k = 0; k < 6; k++) {
            const size_t p = idx[k];
            const float saved = c.params[p], h = 1e-2f;
            c.params[p] = saved + h;
            const double up = ddpm_classifier_forward(c.params, ws, x, labels, B, NULL);
            c.params[p] = saved - h;
            const double down = ddpm_classifier_forward(c.params, ws, x, labels, B, NULL);
            c.params[p] = saved;
            const double fd = (up - down) / (2.0 * h);
            CHECK_CLOSE(g[p], fd, 0.03, 2e-5, "%s[%zu]", t->name, p - t->offset);
            checked++;
        }
        CHECK(fabsf(g[top]) > 1e-5f, "%s gets no gradient", t->name);
    }
    printf("gradients: %d entries match central differences\n", checked);
    free(g);
    free(x);
    ddpm_classifier_workspace_free(ws);
    ddpm_classifier_free(&c);
}

/* The first n digits of the training split, borrowed (do not free). */
static ddpm_dataset subset(const ddpm_dataset *ds, size_t n)
{
    ddpm_dataset s = *ds;
    s.n = n;
    return s;
}

typedef struct {
    double epoch_loss[4];
} loss_log;

static bool log_epochs(void *ctx, const ddpm_classifier_epoch_stats *s, bool epoch_done)
{
    loss_log *log = ctx;
    if (epoch_done) log->epoch_loss[s->epoch - 1] = s->loss;
    return true;
}

static void check_training(const ddpm_dataset *train)
{
    ddpm_classifier_train_config cfg = ddpm_classifier_train_config_default();
    cfg.epochs = 4;
    cfg.batch = 32;
    cfg.seed = 11;
    const ddpm_dataset small = subset(train, 256);
    ddpm_classifier a, b;
    ddpm_error err = {0};
    loss_log la = {{0}}, lb = {{0}};
    ddpm_classifier_init(&a, cfg.seed);
    ddpm_classifier_init(&b, cfg.seed);
    CHECK(ddpm_classifier_train(&a, &cfg, &small, NULL, log_epochs, &la, &err) == 0, "%s", err.msg);
    CHECK(ddpm_classifier_train(&b, &cfg, &small, NULL, log_epochs, &lb, &err) == 0, "%s", err.msg);
    printf("training on 256 digits: epoch losses %.4f %.4f %.4f %.4f\n", la.epoch_loss[0], la.epoch_loss[1],
           la.epoch_loss[2], la.epoch_loss[3]);
    CHECK(la.epoch_loss[3] < 0.6 * la.epoch_loss[0], "training did not lower the loss: %g -> %g",
          la.epoch_loss[0], la.epoch_loss[3]);
    CHECK(memcmp(a.params, b.params, sizeof(float) * ddpm_classifier_num_params()) == 0,
          "two runs with the same seed differ");
    CHECK(a.epochs == 4 && a.seed == 11 && a.heldout_accuracy == -1.0, "provenance fields");

    /* From the same initial weights, one epoch: the seed orders the batches
     * (checked without shifts) and draws the shifts. */
    ddpm_classifier base, other;
    const size_t bytes = sizeof(float) * ddpm_classifier_num_params();
    ddpm_classifier_init(&base, 1);
    ddpm_classifier_init(&other, 1);
    cfg.epochs = 1;
    cfg.max_shift = 0;
    cfg.seed = 11;
    CHECK(ddpm_classifier_train(&base, &cfg, &small, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
    cfg.seed = 12;
    CHECK(ddpm_classifier_train(&other, &cfg, &small, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(base.params, other.params, bytes) != 0, "the seed does not change the batch order");
    ddpm_classifier_free(&other);
    ddpm_classifier_init(&other, 1);
    cfg.seed = 11;
    cfg.max_shift = 2;
    CHECK(ddpm_classifier_train(&other, &cfg, &small, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(base.params, other.params, bytes) != 0, "the shifts change nothing");
    ddpm_classifier_free(&base);

    /* unfit data is refused */
    ddpm_dataset unlabelled = small;
    unlabelled.labels = NULL;
    CHECK(ddpm_classifier_train(&other, &cfg, &unlabelled, NULL, NULL, NULL, &err) != 0, "no labels accepted");
    ddpm_dataset wrong_size = small;
    wrong_size.width = 14;
    CHECK(ddpm_classifier_train(&other, &cfg, &wrong_size, NULL, NULL, NULL, &err) != 0 &&
              strstr(err.msg, "28x28"),
          "14-wide images accepted: %s", err.msg);
    ddpm_classifier_free(&a);
    ddpm_classifier_free(&b);
    ddpm_classifier_free(&other);
}

static void expect_refused(const char *path, const char *what, const char *needle)
{
    ddpm_classifier c;
    ddpm_error err = {0};
    c.params = (float *)&c;  /* load must reset it */
    CHECK(ddpm_classifier_load(&c, path, &err) != 0, "%s was accepted", what);
    CHECK(c.params == NULL, "%s: a failed load left params", what);
    CHECK(strstr(err.msg, path) && strstr(err.msg, "ddpm eval --train-classifier"),
          "%s: the message lacks the file or the fix: %s", what, err.msg);
    if (needle) CHECK(strstr(err.msg, needle), "%s: the message lacks '%s': %s", what, needle, err.msg);
    printf("refused %s: %.160s...\n", what, err.msg);
}

/* Writes the classifier's tensors with one changed: drop (shape[0] = -1),
 * another shape, or an extra tensor. */
static void write_variant(const char *path, const ddpm_classifier *c, int victim, int new_rows,
                          bool extra, const char *format)
{
    ddpm_st_tensor t[16];
    int n = 0;
    for (int i = 0; i < ddpm_classifier_num_tensors(); i++) {
        const ddpm_classifier_tensor_info *info = ddpm_classifier_tensor(i);
        if (i == victim && new_rows < 0) continue;
        t[n] = (ddpm_st_tensor){.name = info->name, .ndim = info->ndim, .data = c->params + info->offset};
        for (int d = 0; d < info->ndim; d++) t[n].shape[d] = info->shape[d];
        if (i == victim) t[n].shape[0] = new_rows;
        n++;
    }
    if (extra) t[n++] = (ddpm_st_tensor){.name = "fc3.weight", .ndim = 1, .shape = {4}, .data = c->params};
    ddpm_st_meta meta[2] = {{"format", format}, {"format_version", "1"}};
    ddpm_error err = {0};
    CHECK(ddpm_safetensors_write(path, t, n, meta, 2, &err) == 0, "%s", err.msg);
}

static void check_files(void)
{
    char dir[] = "/tmp/ddpm_test_classifier_XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/clf.safetensors", dir);
    ddpm_classifier c, back;
    ddpm_error err = {0};
    ddpm_classifier_init(&c, 3);
    c.heldout_accuracy = 0.9876;
    c.epochs = 7;
    c.seed = 12345678901234ull;
    CHECK(ddpm_classifier_save(&c, path, &err) == 0, "%s", err.msg);
    CHECK(ddpm_classifier_load(&back, path, &err) == 0, "%s", err.msg);
    CHECK(memcmp(c.params, back.params, sizeof(float) * ddpm_classifier_num_params()) == 0,
          "weights changed in the round trip");
    CHECK(back.epochs == 7 && back.seed == 12345678901234ull && fabs(back.heldout_accuracy - 0.9876) < 1e-9,
          "metadata changed: %d %llu %g", back.epochs, (unsigned long long)back.seed, back.heldout_accuracy);
    ddpm_classifier_free(&back);

    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing.safetensors", dir);
    expect_refused(bad, "a missing file", NULL);

    snprintf(bad, sizeof bad, "%s/shape.safetensors", dir);
    write_variant(bad, &c, 6, 64, false, "ddpm-lab-classifier");
    expect_refused(bad, "a mis-shaped fc1.weight", "fc1.weight");

    snprintf(bad, sizeof bad, "%s/dropped.safetensors", dir);
    write_variant(bad, &c, 3, -1, false, "ddpm-lab-classifier");
    expect_refused(bad, "a missing tensor", NULL);

    snprintf(bad, sizeof bad, "%s/extra.safetensors", dir);
    write_variant(bad, &c, -1, 0, true, "ddpm-lab-classifier");
    expect_refused(bad, "an extra tensor", NULL);

    snprintf(bad, sizeof bad, "%s/format.safetensors", dir);
    write_variant(bad, &c, -1, 0, false, "ddpm-lab");
    expect_refused(bad, "a UNet-format file", "not a digit classifier");

    snprintf(bad, sizeof bad, "%s/nan.safetensors", dir);
    c.params[ddpm_classifier_tensor(4)->offset + 17] = NAN;
    CHECK(ddpm_classifier_save(&c, bad, &err) == 0, "%s", err.msg);
    expect_refused(bad, "a NaN weight", "conv3.weight");
    c.params[ddpm_classifier_tensor(4)->offset + 17] = 0.0f;

    /* truncation: the last 100 bytes of a good file cut off */
    snprintf(bad, sizeof bad, "%s/cut.safetensors", dir);
    CHECK(ddpm_classifier_save(&c, bad, &err) == 0, "%s", err.msg);
    FILE *fp = fopen(bad, "rb");
    CHECK(fp, "reopen");
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fclose(fp);
    CHECK(truncate(bad, len - 100) == 0, "truncate");
    expect_refused(bad, "a truncated file", NULL);

    /* an empty file */
    snprintf(bad, sizeof bad, "%s/empty.safetensors", dir);
    fp = fopen(bad, "wb");
    CHECK(fp, "create");
    fclose(fp);
    expect_refused(bad, "an empty file", NULL);

    ddpm_classifier_free(&c);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* The committed classifier: it loads, and it still classifies the held-out
 * digits as well as its metadata says (so a change to the kernels that
 * alters its predictions shows up here). */
static void check_bundled(void)
{
    char path[4096];
    ddpm_classifier_default_path(path, sizeof path);
    ddpm_classifier c;
    ddpm_error err = {0};
    CHECK(ddpm_classifier_load(&c, path, &err) == 0, "%s", err.msg);
    ddpm_dataset heldout;
    CHECK(ddpm_dataset_open_digits(&heldout, NULL, DDPM_SPLIT_HELDOUT, &err) == 0, "%s", err.msg);
    const double acc = ddpm_classifier_accuracy(&c, &heldout);
    printf("bundled classifier: held-out accuracy %.2f%% (recorded %.2f%%)\n", 100 * acc,
           100 * c.heldout_accuracy);
    CHECK(acc >= 0.985, "held-out accuracy %.4f is below 98.5%%", acc);
    CHECK(fabs(acc - c.heldout_accuracy) <= 0.0025, "accuracy %.4f differs from the recorded %.4f", acc,
          c.heldout_accuracy);
    /* the held-out digits' probabilities and features, bit for bit the same
     * on one thread and on three (batches of 100 over a pool) */
    const size_t n = 250, np = n * DDPM_CLASSIFIER_CLASSES, nf = n * DDPM_CLASSIFIER_FEATURES;
    float *p1 = malloc(sizeof(float) * np), *p3 = malloc(sizeof(float) * np);
    float *f1 = malloc(sizeof(float) * nf), *f3 = malloc(sizeof(float) * nf);
    float *x = malloc(sizeof(float) * n * 28 * 28);
    CHECK(p1 && p3 && f1 && f3 && x, "out of memory");
    ddpm_dataset_images(&heldout, 0, n, x);
    ddpm_set_threads(1);
    ddpm_classifier_predict(&c, x, n, p1, f1);
    ddpm_set_threads(3);
    ddpm_classifier_predict(&c, x, n, p3, f3);
    ddpm_set_threads(1);
    CHECK(memcmp(p1, p3, sizeof(float) * np) == 0, "probabilities differ at 1 and 3 threads");
    CHECK(memcmp(f1, f3, sizeof(float) * nf) == 0, "features differ at 1 and 3 threads");
    printf("bundled classifier: %zu predictions identical at 1 and 3 threads\n", n);
    free(p1), free(p3), free(f1), free(f3), free(x);
    ddpm_dataset_free(&heldout);
    ddpm_classifier_free(&c);
}

int main(void)
{
    check_table();
    check_gradients();
    ddpm_dataset train;
    ddpm_error err = {0};
    CHECK(ddpm_dataset_open_digits(&train, NULL, DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    check_training(&train);
    ddpm_dataset_free(&train);
    check_files();
    check_bundled();
    TEST_PASS("test_classifier");
}
