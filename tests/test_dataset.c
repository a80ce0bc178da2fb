/* test_dataset.c: the bundled digits and their split, folders in torchvision
 * layout, Fashion-MNIST (or the hint when it is missing), and the epoch
 * order of training batches. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check.h"
#include "ddpm/dataset.h"
#include "ddpm/fileio.h"
#include "ddpm/idx.h"

static char tmp_dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void expect_open_error(int rc, const ddpm_dataset *ds, const ddpm_error *err,
                              const char *phrase, int line)
{
    if (rc != DDPM_ERR || !strstr(err->msg, phrase) || ds->bytes || ds->labels) {
        fprintf(stderr, "test_dataset.c:%d: expected an error containing '%s', got rc %d: %s\n",
                line, phrase, rc, err->msg);
        exit(1);
    }
}
#define EXPECT_OPEN_ERROR(call, phrase)                          \
    do {                                                         \
        ddpm_error err_ = {{0}};                                 \
        ddpm_dataset ds_;                                        \
        int rc_ = (call(&ds_, &err_));                           \
        expect_open_error(rc_, &ds_, &err_, phrase, __LINE__);   \
    } while (0)

/* ---- bundled digits --------------------------------------------------------- */

static void check_digits(const ddpm_dataset *ds, size_t n)
{
    CHECK(ds->n == n, "digits: %zu images, expected %zu", ds->n, n);
    CHECK(ds->channels == 1 && ds->height == 28 && ds->width == 28, "digits are 1x28x28");
    CHECK(strcmp(ds->name, "digits") == 0, "name '%s'", ds->name);
    CHECK(ds->labels && ds->num_classes == 10, "num_classes %d", ds->num_classes);
    float *px = malloc(sizeof(float) * ds->n * 28 * 28);
    CHECK(px != NULL, "out of memory");
    ddpm_dataset_images(ds, 0, ds->n, px);
    float mn = 1e9f, mx = -1e9f;
    for (size_t i = 0; i < ds->n * 28 * 28; i++) {
        float v = px[i];
        /* Every value is x / 127.5 - 1 of the byte kept. */
        CHECK(v == (float)ds->bytes[i] / 127.5f - 1.0f, "pixel %zu = %g for byte %d", i, v, ds->bytes[i]);
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    free(px);
    CHECK(mn == -1.0f && mx == 1.0f, "pixel range [%g, %g], expected exactly [-1, 1]", mn, mx);
    for (size_t i = 0; i < ds->n; i++) CHECK(ds->labels[i] <= 9, "label %u", ds->labels[i]);
}

static void test_digits(void)
{
    ddpm_error err = {{0}};
    ddpm_dataset all, train, held;
    CHECK(ddpm_dataset_open(&all, NULL, DDPM_SPLIT_ALL, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_dataset_open(&train, "digits", DDPM_SPLIT_TRAIN, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_dataset_open_digits(&held, NULL, DDPM_SPLIT_HELDOUT, &err) == DDPM_OK, "%s", err.msg);
    check_digits(&all, 10000);
    check_digits(&train, 9000);
    check_digits(&held, 1000);

    int per_class[10] = {0}, train_class[10] = {0};
    for (size_t i = 0; i < held.n; i++) per_class[held.labels[i]]++;
    for (size_t i = 0; i < train.n; i++) train_class[train.labels[i]]++;
    for (int c = 0; c < 10; c++) {
        CHECK(per_class[c] == 100, "held-out has %d of class %d, expected 100", per_class[c], c);
        CHECK(train_class[c] > 700, "train has only %d of class %d", train_class[c], c);
    }
    /* train + held-out is all, in that order: the split is the file's tail. */
    size_t hw = 28 * 28;
    CHECK(memcmp(all.bytes, train.bytes, train.n * hw) == 0, "train = head of all");
    CHECK(memcmp(all.bytes + train.n * hw, held.bytes, held.n * hw) == 0, "held-out = tail of all");
    CHECK(memcmp(all.labels + train.n, held.labels, held.n) == 0, "held-out labels = tail");
    /* images() converts the named run of images */
    float two[2 * 28 * 28];
    ddpm_dataset_images(&all, 9000, 2, two);
    for (size_t i = 0; i < 2 * hw; i++)
        CHECK(two[i] == (float)all.bytes[9000 * hw + i] / 127.5f - 1.0f, "images(9000, 2)[%zu]", i);
    /* The shuffle interleaves classes: no long runs of one label. */
    int run = 1, longest = 1;
    for (size_t i = 1; i < all.n; i++) {
        run = all.labels[i] == all.labels[i - 1] ? run + 1 : 1;
        if (run > longest) longest = run;
    }
    CHECK(longest < 10, "a run of %d equal labels: the file is not shuffled", longest);

    /* gather copies the named images and labels. */
    uint32_t pick[3] = {9999, 0, 4242};
    float px[3 * 28 * 28];
    uint8_t lb[3];
    ddpm_dataset_gather(&all, pick, 3, px, lb);
    for (int k = 0; k < 3; k++) {
        float one[28 * 28];
        ddpm_dataset_images(&all, pick[k], 1, one);
        CHECK(memcmp(px + k * hw, one, hw * sizeof(float)) == 0, "gathered image %d", k);
        CHECK(lb[k] == all.labels[pick[k]], "gathered label %d", k);
    }
    ddpm_dataset_free(&all);
    ddpm_dataset_free(&train);
    ddpm_dataset_free(&held);
    CHECK(all.bytes == NULL && all.n == 0, "free zeroes");
    ddpm_dataset_free(&all);

    /* DDPM_ASSETS moves the assets folder; a wrong one says how to fix it. */
    setenv("DDPM_ASSETS", tmp_dir, 1);
#define OPEN_DIGITS(ds, e) ddpm_dataset_open(ds, "digits", DDPM_SPLIT_TRAIN, e)
    EXPECT_OPEN_ERROR(OPEN_DIGITS, "set DDPM_ASSETS");
    setenv("DDPM_ASSETS", DDPM_ASSET_DIR, 1);
    CHECK(ddpm_dataset_open(&all, "digits", DDPM_SPLIT_HELDOUT, &err) == DDPM_OK, "%s", err.msg);
    ddpm_dataset_free(&all);
    unsetenv("DDPM_ASSETS");
}

/* ---- folders ---------------------------------------------------------------- */

static void write_gz(const char *path, const uint8_t *data, size_t len)
{
    gzFile g = gzopen(path, "wb");
    CHECK(g && gzwrite(g, data, (unsigned)len) == (int)len && gzclose(g) == Z_OK, "gz %s", path);
}

/* Writes n images of 4x3 whose pixels are (image * 16 + pixel) and labels
 * (first + image) % 10, as <dir>/<set>-images<sep>idx3-ubyte[.gz]. */
static void write_set(const char *dir, const char *set, const char *sep, int n, int first,
                      bool gz_images, bool gz_labels)
{
    ddpm_error err = {{0}};
    uint8_t pixels[16 * 12], labels[16];
    CHECK(n <= 16, "n");
    for (int i = 0; i < n * 12; i++) pixels[i] = (uint8_t)((first + i / 12) * 16 + i % 12);
    for (int i = 0; i < n; i++) labels[i] = (uint8_t)((first + i) % 10);
    char path[512];
    snprintf(path, sizeof path, "%s/%s-images%sidx3-ubyte", dir, set, sep);
    CHECK(ddpm_idx_write_images(path, pixels, (size_t)n, 4, 3, &err) == DDPM_OK, "%s", err.msg);
    if (gz_images) {
        size_t len;
        unsigned char *bytes;
        CHECK(ddpm_read_file(path, 1 << 20, &bytes, &len, &err) == DDPM_OK, "%s", err.msg);
        remove(path);
        strcat(path, ".gz");
        write_gz(path, bytes, len);
        free(bytes);
    }
    snprintf(path, sizeof path, "%s/%s-labels%sidx1-ubyte", dir, set, sep);
    CHECK(ddpm_idx_write_labels(path, labels, (size_t)n, &err) == DDPM_OK, "%s", err.msg);
    if (gz_labels) {
        size_t len;
        unsigned char *bytes;
        CHECK(ddpm_read_file(path, 1 << 20, &bytes, &len, &err) == DDPM_OK, "%s", err.msg);
        remove(path);
        strcat(path, ".gz");
        write_gz(path, bytes, len);
        free(bytes);
    }
}

static void check_folder_images(const ddpm_dataset *ds, size_t n, int first)
{
    CHECK(ds->n == n && ds->height == 4 && ds->width == 3 && ds->channels == 1,
          "folder set: n %zu (expected %zu), %dx%d", ds->n, n, ds->height, ds->width);
    float px[64 * 12];
    CHECK(n <= 64, "n %zu", n);
    ddpm_dataset_images(ds, 0, n, px);
    for (size_t i = 0; i < n * 12; i++) {
        int byte = (int)((first + i / 12) * 16 + i % 12);
        CHECK(ds->bytes[i] == byte && px[i] == (float)byte / 127.5f - 1.0f, "pixel %zu: %g for byte %d", i,
              px[i], byte);
    }
    for (size_t i = 0; ds->labels && i < n; i++)
        CHECK(ds->labels[i] == (first + i) % 10, "label %zu", i);
}

static void test_folders(void)
{
    ddpm_error err = {{0}};
    char root[256], raw[300];
    snprintf(root, sizeof root, "%s/torch", tmp_dir);
    snprintf(raw, sizeof raw, "%s/MNIST/raw", root);
    CHECK(ddpm_mkdir_p(raw, &err) == DDPM_OK, "%s", err.msg);
    write_set(raw, "train", "-", 5, 0, false, true);   /* raw images, gz labels */
    write_set(raw, "t10k", "-", 3, 5, true, false);    /* gz images, raw labels */

    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, root, DDPM_SPLIT_TRAIN, &err) == DDPM_OK, "%s", err.msg);
    check_folder_images(&ds, 5, 0);
    CHECK(strcmp(ds.name, root) == 0 && ds.num_classes == 5, "name %s classes %d", ds.name,
          ds.num_classes);
    ddpm_dataset_free(&ds);
    CHECK(ddpm_dataset_open(&ds, root, DDPM_SPLIT_HELDOUT, &err) == DDPM_OK, "%s", err.msg);
    check_folder_images(&ds, 3, 5);
    ddpm_dataset_free(&ds);
    CHECK(ddpm_dataset_open_dir(&ds, raw, DDPM_SPLIT_ALL, &err) == DDPM_OK, "%s", err.msg);
    check_folder_images(&ds, 8, 0);  /* train, then t10k */
    ddpm_dataset_free(&ds);

    /* The other spelling (train-images.idx3-ubyte), train only, no labels. */
    char dotted[256];
    snprintf(dotted, sizeof dotted, "%s/dotted", tmp_dir);
    CHECK(ddpm_mkdir_p(dotted, &err) == DDPM_OK, "%s", err.msg);
    write_set(dotted, "train", ".", 4, 0, false, false);
    char label_file[300];
    snprintf(label_file, sizeof label_file, "%s/train-labels.idx1-ubyte", dotted);
    remove(label_file);
    CHECK(ddpm_dataset_open(&ds, dotted, DDPM_SPLIT_ALL, &err) == DDPM_OK, "%s", err.msg);
    check_folder_images(&ds, 4, 0);
    CHECK(ds.labels == NULL && ds.num_classes == 0, "no label file, no labels");
    ddpm_dataset_free(&ds);
#define OPEN_DOTTED_HELDOUT(ds, e) ddpm_dataset_open_dir(ds, dotted, DDPM_SPLIT_HELDOUT, e)
    EXPECT_OPEN_ERROR(OPEN_DOTTED_HELDOUT, "no held-out images (t10k-images-idx3-ubyte");

    /* A folder without IDX files lists what it looked for. */
    char empty[256];
    snprintf(empty, sizeof empty, "%s/empty", tmp_dir);
    CHECK(ddpm_mkdir_p(empty, &err) == DDPM_OK, "%s", err.msg);
#define OPEN_EMPTY(ds, e) ddpm_dataset_open(ds, empty, DDPM_SPLIT_TRAIN, e)
    EXPECT_OPEN_ERROR(OPEN_EMPTY, "holds no MNIST-format IDX files: looked for "
                                  "train-images-idx3-ubyte and t10k-images-idx3-ubyte");
    EXPECT_OPEN_ERROR(OPEN_EMPTY, "MNIST/raw");
#define OPEN_UNKNOWN(ds, e) ddpm_dataset_open(ds, "no-such-dataset", DDPM_SPLIT_TRAIN, e)
    EXPECT_OPEN_ERROR(OPEN_UNKNOWN, "unknown dataset 'no-such-dataset'");

    /* A damaged file inside a folder: the error names it. */
    char bad[256];
    snprintf(bad, sizeof bad, "%s/bad", tmp_dir);
    CHECK(ddpm_mkdir_p(bad, &err) == DDPM_OK, "%s", err.msg);
    write_set(bad, "train", "-", 2, 0, false, false);
    char labels[300];
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte", bad);
    uint8_t three[3] = {1, 2, 3};
    CHECK(ddpm_idx_write_labels(labels, three, 3, &err) == DDPM_OK, "%s", err.msg);
#define OPEN_BAD(ds, e) ddpm_dataset_open(ds, bad, DDPM_SPLIT_TRAIN, e)
    EXPECT_OPEN_ERROR(OPEN_BAD, "holds 2 images but");
}

static void test_fashion(void)
{
    char missing[256];
    snprintf(missing, sizeof missing, "%s/no-fashion-here", tmp_dir);
#define OPEN_MISSING_FASHION(ds, e) ddpm_dataset_open_fashion(ds, missing, DDPM_SPLIT_TRAIN, e)
    EXPECT_OPEN_ERROR(OPEN_MISSING_FASHION, "sudo apt install dataset-fashion-mnist");

    {   /* digits have no class names: the label is the name */
        ddpm_error e = {{0}};
        ddpm_dataset dg;
        CHECK(ddpm_dataset_open(&dg, "digits", DDPM_SPLIT_HELDOUT, &e) == DDPM_OK, "%s", e.msg);
        CHECK(ddpm_dataset_class_name(&dg, 3) == NULL, "digits have no class names");
        ddpm_dataset_free(&dg);
    }
    if (!ddpm_dir_exists(DDPM_FASHION_DIR)) {
        printf("  %s not installed: skipping the Fashion-MNIST load\n", DDPM_FASHION_DIR);
        return;
    }
    ddpm_error err = {{0}};
    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, "fashion", DDPM_SPLIT_HELDOUT, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ds.n == 10000 && ds.height == 28 && ds.width == 28 && ds.num_classes == 10,
          "fashion held-out: %zu of %dx%d, %d classes", ds.n, ds.height, ds.width, ds.num_classes);
    CHECK(strcmp(ds.name, "fashion") == 0, "name %s", ds.name);
    ddpm_dataset_free(&ds);
    CHECK(ddpm_dataset_open(&ds, "fashion", DDPM_SPLIT_TRAIN, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ds.n == 60000, "fashion train: %zu", ds.n);
    /* the class names of the Fashion-MNIST README, by label */
    CHECK(strcmp(ddpm_dataset_class_name(&ds, 0), "T-shirt/top") == 0 &&
              strcmp(ddpm_dataset_class_name(&ds, 9), "Ankle boot") == 0 && !ddpm_dataset_class_name(&ds, 10) &&
              !ddpm_dataset_class_name(&ds, -1),
          "fashion class names");
    ddpm_dataset_free(&ds);
}

static void test_splits(void)
{
    ddpm_split s;
    ddpm_error err = {{0}};
    for (int i = 0; i < DDPM_SPLIT_COUNT; i++) {
        CHECK(ddpm_split_parse(ddpm_split_name((ddpm_split)i), &s, &err) == DDPM_OK && (int)s == i,
              "split name round trip %d", i);
    }
    CHECK(ddpm_split_parse("test", &s, &err) == DDPM_OK && s == DDPM_SPLIT_HELDOUT, "test alias");
    CHECK(ddpm_split_parse("validation", &s, &err) == DDPM_ERR &&
          strstr(err.msg, "train, heldout or all"), "unknown split: %s", err.msg);
}

/* ---- batch order ------------------------------------------------------------- */

static void test_batches(void)
{
    enum { N = 100, B = 10 };
    ddpm_batch_sampler a, b;
    ddpm_batch_sampler_init(&a, N, 42);
    ddpm_batch_sampler_init(&b, N, 42);
    uint32_t idx[B], idx2[B], epoch0[N], epoch1[N];

    /* Each epoch (10 steps) visits every image exactly once, in a new order. */
    for (int step = 0; step < 20; step++) {
        ddpm_batch_sampler_draw(&a, (uint64_t)step, B, idx);
        memcpy(step < 10 ? epoch0 + step * B : epoch1 + (step - 10) * B, idx, sizeof idx);
    }
    for (int e = 0; e < 2; e++) {
        int seen[N] = {0};
        for (int i = 0; i < N; i++) {
            uint32_t v = e ? epoch1[i] : epoch0[i];
            CHECK(v < N, "index %u out of range", v);
            seen[v]++;
        }
        for (int i = 0; i < N; i++) CHECK(seen[i] == 1, "epoch %d sees image %d %d times", e, i, seen[i]);
    }
    CHECK(memcmp(epoch0, epoch1, sizeof epoch0) != 0, "epochs must be shuffled differently");
    int identity = 0;
    for (int i = 0; i < N; i++) identity += epoch0[i] == (uint32_t)i;
    CHECK(identity < 10, "epoch 0 is nearly unshuffled (%d fixed points)", identity);
    /* A uniform permutation has one fixed point on average; a biased
     * shuffle (Sattolo's, j < i) never has any.  50 epochs: expect ~50. */
    int fixed = 0;
    for (int step = 0; step < 50 * N / B; step++) {
        ddpm_batch_sampler_draw(&a, (uint64_t)step, B, idx);
        for (int k = 0; k < B; k++) fixed += idx[k] == (uint32_t)((step * B + k) % N);
    }
    CHECK(fixed > 20 && fixed < 90, "%d fixed points in 50 epochs, expected about 50", fixed);

    /* A fresh sampler asked for step 17 directly (a resumed run) agrees. */
    ddpm_batch_sampler_draw(&b, 17, B, idx2);
    CHECK(memcmp(idx2, epoch1 + 7 * B, sizeof idx2) == 0, "resumed step 17 differs");
    /* Going back to an earlier epoch gives it again. */
    ddpm_batch_sampler_draw(&b, 3, B, idx2);
    CHECK(memcmp(idx2, epoch0 + 3 * B, sizeof idx2) == 0, "step 3 after step 17 differs");
    ddpm_batch_sampler_free(&b);

    /* Another seed, another order. */
    ddpm_batch_sampler_init(&b, N, 43);
    ddpm_batch_sampler_draw(&b, 0, B, idx2);
    CHECK(memcmp(idx2, epoch0, sizeof idx2) != 0, "seed must matter");
    ddpm_batch_sampler_free(&b);

    /* Batches that straddle epochs (n = 7, B = 3) continue the sequence. */
    ddpm_batch_sampler c;
    ddpm_batch_sampler_init(&c, 7, 5);
    uint32_t seq[21], one[3];
    for (int step = 0; step < 7; step++) ddpm_batch_sampler_draw(&c, (uint64_t)step, 3, seq + 3 * step);
    for (int e = 0; e < 3; e++) {
        int seen[7] = {0};
        for (int i = 0; i < 7; i++) seen[seq[e * 7 + i]]++;
        for (int i = 0; i < 7; i++) CHECK(seen[i] == 1, "straddling epoch %d, image %d", e, i);
    }
    ddpm_batch_sampler_draw(&c, 2, 3, one);
    CHECK(memcmp(one, seq + 6, sizeof one) == 0, "step 2 again");
    ddpm_batch_sampler_free(&c);
    ddpm_batch_sampler_free(&a);
}

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ddpm_test_dataset.XXXXXX");
    CHECK(mkdtemp(tmp_dir), "mkdtemp");
    test_digits();
    test_folders();
    test_fashion();
    test_splits();
    test_batches();
    nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    TEST_PASS("test_dataset");
}
