/* test_checkpoint.c: model checkpoints round-trip exactly; files that do not
 * match their config, hold NaN weights, miss a group or are not ddpm-lab
 * checkpoints are rejected with a message that says so. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/checkpoint.h"
#include "ddpm/fileio.h"
#include "ddpm/safetensors.h"

static char dir[256];

static const char *path_in(const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static void fill(float *a, size_t n, uint64_t seed)
{
    ddpm_rng r;
    ddpm_rng_init(&r, seed, 0);
    ddpm_rng_normal_fill(&r, a, n);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ddpm_test_ckpt_%d", (int)getpid());
    ddpm_error err = {0};
    CHECK(ddpm_mkdir_p(dir, &err) == 0, "%s", err.msg);

    ddpm_run_config run;
    CHECK(ddpm_run_config_default(&run, "tiny", &err) == 0, "%s", err.msg);
    run.prediction = DDPM_PRED_V;
    run.schedule.kind = DDPM_SCHEDULE_COSINE;
    run.schedule.T = 500;
    run.seed = 12345678901234ULL;
    run.adam.lr = 3e-4;
    snprintf(run.dataset, sizeof run.dataset, "fashion");
    ddpm_net *net;
    CHECK(ddpm_net_create(&net, &run.net, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(net);
    float *a = malloc(4 * P * sizeof(float));
    fill(a, 4 * P, 1);
    ddpm_checkpoint_data d = {.run = &run, .net = net, .step = 777, .ema = a, .model = a + P,
                              .adam_m = a + 2 * P, .adam_v = a + 3 * P, .adam_step = 770};

    /* full round trip */
    CHECK(ddpm_checkpoint_save(path_in("full.safetensors"), &d, &err) == 0, "%s", err.msg);
    ddpm_checkpoint ck;
    CHECK(ddpm_checkpoint_load(&ck, path_in("full.safetensors"), DDPM_CKPT_ALL, &err) == 0, "%s", err.msg);
    CHECK(ck.groups == DDPM_CKPT_ALL && ck.step == 777 && ck.adam_step == 770, "groups/step");
    CHECK(memcmp(ck.ema, a, P * 4) == 0 && memcmp(ck.model, a + P, P * 4) == 0 &&
          memcmp(ck.adam_m, a + 2 * P, P * 4) == 0 && memcmp(ck.adam_v, a + 3 * P, P * 4) == 0,
          "weights differ after the round trip");
    CHECK(ddpm_net_config_equal(&ck.run.net, &run.net), "network config");
    CHECK(ck.run.schedule.kind == DDPM_SCHEDULE_COSINE && ck.run.schedule.T == 500 &&
          ck.run.prediction == DDPM_PRED_V && ck.run.seed == run.seed && ck.run.adam.lr == 3e-4 &&
          strcmp(ck.run.dataset, "fashion") == 0 && strcmp(ck.run.preset, "tiny") == 0,
          "run config after the round trip");
    CHECK(ddpm_checkpoint_weights(&ck) == ck.ema, "sampling must use EMA");
    ddpm_checkpoint_free(&ck);

    /* an exported model: EMA only, small, not resumable */
    d.model = d.adam_m = d.adam_v = NULL;
    CHECK(ddpm_checkpoint_save(path_in("ema.safetensors"), &d, &err) == 0, "%s", err.msg);
    CHECK(ddpm_checkpoint_load(&ck, path_in("ema.safetensors"), DDPM_CKPT_WEIGHTS, &err) == 0, "%s", err.msg);
    CHECK(ck.groups == DDPM_CKPT_EMA && !ck.model && !ck.adam_m, "ema-only groups");
    ddpm_checkpoint_free(&ck);
    CHECK(ddpm_checkpoint_load(&ck, path_in("ema.safetensors"), DDPM_CKPT_ALL, &err) == DDPM_ERR &&
          strstr(err.msg, "optimizer state"), "resume from EMA-only: %s", err.msg);
    CHECK(ck.net == NULL && ck.ema == NULL, "failed load must leave nothing to free");

    /* a preset field that names no preset: the preset the network matches, else "custom" */
    snprintf(run.preset, sizeof run.preset, "exp16_1_2_2_1");
    CHECK(ddpm_checkpoint_save(path_in("label.safetensors"), &d, &err) == 0, "%s", err.msg);
    CHECK(ddpm_checkpoint_load(&ck, path_in("label.safetensors"), DDPM_CKPT_WEIGHTS, &err) == 0, "%s", err.msg);
    CHECK(strcmp(ck.run.preset, "tiny") == 0, "an experiment's label on tiny's network reads as tiny: %s",
          ck.run.preset);
    ddpm_checkpoint_free(&ck);
    snprintf(run.preset, sizeof run.preset, "small"); /* a name whose network differs */
    CHECK(ddpm_checkpoint_save(path_in("label.safetensors"), &d, &err) == 0, "%s", err.msg);
    CHECK(ddpm_checkpoint_load(&ck, path_in("label.safetensors"), DDPM_CKPT_WEIGHTS, &err) == 0, "%s", err.msg);
    CHECK(strcmp(ck.run.preset, "tiny") == 0, "the label follows the network: %s", ck.run.preset);
    ddpm_checkpoint_free(&ck);
    snprintf(run.preset, sizeof run.preset, "tiny");

    /* NaN in the weights */
    float keep = a[P / 2];
    a[P / 2] = NAN;
    CHECK(ddpm_checkpoint_save(path_in("nan.safetensors"), &d, &err) == 0, "%s", err.msg);
    a[P / 2] = keep;
    CHECK(ddpm_checkpoint_load(&ck, path_in("nan.safetensors"), DDPM_CKPT_WEIGHTS, &err) == DDPM_ERR &&
          strstr(err.msg, "NaN"), "NaN weights: %s", err.msg);

    /* weights of one config under the metadata of another */
    ddpm_run_config other = run;
    CHECK(ddpm_net_preset("small", &other.net, &err) == 0, "small");
    ddpm_checkpoint_data lie = d;
    lie.run = &other;
    lie.net = net; /* tiny's tensors */
    CHECK(ddpm_checkpoint_save(path_in("lie.safetensors"), &lie, &err) == 0, "%s", err.msg);
    CHECK(ddpm_checkpoint_load(&ck, path_in("lie.safetensors"), DDPM_CKPT_WEIGHTS, &err) == DDPM_ERR &&
          strstr(err.msg, "does not match"), "config mismatch: %s", err.msg);

    /* a safetensors file that is not a ddpm-lab checkpoint */
    float w[3] = {1, 2, 3};
    ddpm_st_tensor t = {.name = "weight", .ndim = 1, .shape = {3}, .data = w};
    CHECK(ddpm_safetensors_write(path_in("foreign.safetensors"), &t, 1, NULL, 0, &err) == 0, "%s", err.msg);
    CHECK(ddpm_checkpoint_load(&ck, path_in("foreign.safetensors"), DDPM_CKPT_WEIGHTS, &err) == DDPM_ERR &&
          strstr(err.msg, "not a ddpm-lab checkpoint"), "foreign: %s", err.msg);

    /* a missing file names the path */
    CHECK(ddpm_checkpoint_load(&ck, path_in("missing.safetensors"), DDPM_CKPT_WEIGHTS, &err) == DDPM_ERR &&
          strstr(err.msg, "missing.safetensors"), "missing: %s", err.msg);

    /* saving into a missing directory fails cleanly and leaves no file */
    CHECK(ddpm_checkpoint_save("/nonexistent-dir/x.safetensors", &d, &err) == DDPM_ERR &&
          strstr(err.msg, "nonexistent-dir"), "bad dir: %s", err.msg);

    free(a);
    ddpm_net_free(net);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    TEST_PASS("test_checkpoint");
}
