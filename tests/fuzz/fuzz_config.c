/* fuzz_config.c: libFuzzer target for the JSON configurations stored in
 * checkpoint metadata (UNet, MLP, scheduler, training).  Any bytes must give
 * a valid config or a clean error; a valid network config must build. */
#include <stdlib.h>
#include <string.h>

#include "ddpm/config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 1 << 16) return 0;
    char *json = malloc(size + 1);
    memcpy(json, data, size);
    json[size] = '\0';
    ddpm_error err = {0};
    for (int arch = 0; arch < DDPM_ARCH_COUNT; arch++) {
        ddpm_net_config nc;
        if (ddpm_net_config_from_json((ddpm_arch)arch, json, &nc, &err) != DDPM_OK) continue;
        /* a config that validated must build, and print back to itself */
        ddpm_net *net = NULL;
        if (ddpm_net_create(&net, &nc, &err) != DDPM_OK) abort();
        char *again = ddpm_net_config_to_json(&nc);
        ddpm_net_config back;
        if (ddpm_net_config_from_json((ddpm_arch)arch, again, &back, &err) != DDPM_OK ||
            !ddpm_net_config_equal(&nc, &back))
            abort();
        free(again);
        ddpm_net_free(net);
    }
    ddpm_schedule_config sc;
    ddpm_prediction pred;
    if (ddpm_scheduler_config_from_json(json, &sc, &pred, &err) == DDPM_OK) {
        ddpm_schedule s;
        if (ddpm_schedule_init(&s, &sc, &err) != DDPM_OK) abort();
        ddpm_schedule_free(&s);
    }
    ddpm_run_config rc;
    ddpm_run_config_default(&rc, "tiny", &err);
    if (ddpm_train_config_from_json(json, &rc, &err) == DDPM_OK && ddpm_adam_config_validate(&rc.adam, &err) != DDPM_OK)
        abort();
    free(json);
    return 0;
}
