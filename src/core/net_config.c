/* net_config.c: network configurations of every architecture: names,
 * presets, checks and the sample shape (see ddpm/net.h). */
#include <stdio.h>
#include <string.h>

#include "ddpm/net.h"

static const char *const arch_names[DDPM_ARCH_COUNT] = {"unet", "mlp"};

const char *ddpm_arch_name(ddpm_arch arch)
{
    DDPM_ASSERT((int)arch >= 0 && arch < DDPM_ARCH_COUNT);
    return arch_names[arch];
}

int ddpm_arch_parse(const char *name, ddpm_arch *out, ddpm_error *err)
{
    for (int a = 0; name && a < DDPM_ARCH_COUNT; a++)
        if (strcmp(name, arch_names[a]) == 0) {
            *out = (ddpm_arch)a;
            return DDPM_OK;
        }
    return ddpm_fail(err, "unknown architecture '%s'; use unet or mlp", name ? name : "(null)");
}

const char *const ddpm_net_preset_names[] = {"live", "tiny", "small", "mlp", NULL};

int ddpm_net_preset(const char *name, ddpm_net_config *out, ddpm_error *err)
{
    DDPM_ASSERT(out);
    memset(out, 0, sizeof *out);
    ddpm_error ignored;
    if (ddpm_unet_preset(name, &out->unet, &ignored) == DDPM_OK) {
        out->arch = DDPM_ARCH_UNET;
        return DDPM_OK;
    }
    if (ddpm_mlp_preset(name, &out->mlp, &ignored) == DDPM_OK) {
        out->arch = DDPM_ARCH_MLP;
        return DDPM_OK;
    }
    memset(out, 0, sizeof *out);
    return ddpm_fail(err, "unknown preset '%s'; valid presets are: live, tiny, small (UNets for 28x28 images), "
                          "mlp (2-D points)", name ? name : "(null)");
}

const char *ddpm_net_config_preset_name(const ddpm_net_config *cfg)
{
    for (int i = 0; ddpm_net_preset_names[i]; i++) {
        ddpm_net_config p;
        if (ddpm_net_preset(ddpm_net_preset_names[i], &p, NULL) == DDPM_OK && ddpm_net_config_equal(&p, cfg))
            return ddpm_net_preset_names[i];
    }
    return NULL;
}

int ddpm_net_config_validate(const ddpm_net_config *cfg, ddpm_error *err)
{
    DDPM_ASSERT(cfg);
    switch (cfg->arch) {
    case DDPM_ARCH_UNET: return ddpm_unet_config_validate(&cfg->unet, err);
    case DDPM_ARCH_MLP: return ddpm_mlp_config_validate(&cfg->mlp, err);
    default: return ddpm_fail(err, "unknown architecture %d; use unet or mlp", (int)cfg->arch);
    }
}

bool ddpm_net_config_equal(const ddpm_net_config *a, const ddpm_net_config *b)
{
    if (a->arch != b->arch) return false;
    return a->arch == DDPM_ARCH_UNET ? ddpm_unet_config_equal(&a->unet, &b->unet)
                                     : ddpm_mlp_config_equal(&a->mlp, &b->mlp);
}

void ddpm_net_config_describe(const ddpm_net_config *cfg, char *buf, size_t cap)
{
    char d[256];
    if (cfg->arch == DDPM_ARCH_UNET) ddpm_unet_config_describe(&cfg->unet, d, sizeof d);
    else ddpm_mlp_config_describe(&cfg->mlp, d, sizeof d);
    snprintf(buf, cap, "%s %s", cfg->arch == DDPM_ARCH_UNET ? "UNet" : "MLP", d);
}

void ddpm_net_config_shape(const ddpm_net_config *cfg, int *C, int *H, int *W)
{
    if (cfg->arch == DDPM_ARCH_UNET) {
        *C = cfg->unet.in_channels;
        *H = *W = cfg->unet.image_size;
    } else {
        *C = cfg->mlp.data_dim;
        *H = *W = 1;
    }
}

size_t ddpm_net_config_sample_floats(const ddpm_net_config *cfg)
{
    int C, H, W;
    ddpm_net_config_shape(cfg, &C, &H, &W);
    return (size_t)C * H * W;
}
