/* cmd_schedule.c: `ddpm schedule`, the scheduler's tables from the shell. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/scheduler.h"

static const char *SUMMARY =
    "Prints a noise schedule's tables, or the timesteps a sampler visits.\n"
    "\n"
    "  ddpm schedule --schedule cosine --T 1000 --csv   one row per t\n"
    "  ddpm schedule --steps 50 --spacing trailing      the DDIM timestep list\n"
    "\n"
    "Schedules: linear, scaled-linear, cosine, sqrt, sigmoid.\n"
    "Naming clash: 'linear' here is Ho et al.'s linspace(beta_start, beta_end).\n"
    "The seed notes' make_beta_schedule(\"linear\") (also Stable Diffusion's\n"
    "\"scaled_linear\") squares linspace(sqrt(beta_start), sqrt(beta_end)); that\n"
    "is 'scaled-linear' here.  'sqrt' is the seed's linspace(b0, b1)^0.5.\n"
    "Timesteps are 0-based (t = 0 .. T-1, as in diffusers).";

static void print_table_csv(const ddpm_schedule *s)
{
    printf("t,beta,alpha,alpha_bar,sqrt_alpha_bar,sqrt_one_minus_alpha_bar,snr,log_snr,"
           "posterior_variance,posterior_mean_coef_x0,posterior_mean_coef_xt\n");
    for (int t = 0; t < s->T; t++)
        printf("%d,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", t, s->beta[t],
               s->alpha[t], s->alpha_bar[t], s->sqrt_alpha_bar[t], s->sqrt_one_minus_alpha_bar[t],
               s->snr[t], log(s->snr[t]), s->posterior_variance[t], s->posterior_mean_coef_x0[t],
               s->posterior_mean_coef_xt[t]);
}

static void print_table_summary(const ddpm_schedule *s)
{
    const ddpm_schedule_config *c = &s->cfg;
    printf("schedule %s, T = %d", ddpm_schedule_name(c->kind), s->T);
    if (c->kind != DDPM_SCHEDULE_COSINE) printf(", beta %g .. %g", c->beta_start, c->beta_end);
    printf("\n%6s %12s %12s %12s %12s\n", "t", "beta", "alpha_bar", "SNR", "log SNR");
    int stride = s->T >= 10 ? s->T / 10 : 1;
    for (int t = 0; t < s->T; t += stride)
        printf("%6d %12.6g %12.6g %12.6g %12.4f\n", t, s->beta[t], s->alpha_bar[t], s->snr[t],
               log(s->snr[t]));
    int t = s->T - 1;
    if (t % stride != 0)
        printf("%6d %12.6g %12.6g %12.6g %12.4f\n", t, s->beta[t], s->alpha_bar[t], s->snr[t],
           log(s->snr[t]));
    printf("(--csv prints every t and every table)\n");
}

static int print_timesteps(const ddpm_schedule *s, const ddpm_sampler_config *cfg, bool csv,
                           ddpm_error *err)
{
    int *ts = malloc(sizeof(int) * (size_t)s->T);
    if (!ts) return ddpm_fail(err, "out of memory");
    int S = ddpm_timesteps(s->T, cfg, ts, err);
    if (S < 0) {
        free(ts);
        return DDPM_ERR;
    }
    if (csv) {
        printf("k,t,t_prev,alpha_bar,alpha_bar_prev,sigma,dir_coef\n");
        for (int k = 0; k < S; k++) {
            int t_prev = k + 1 < S ? ts[k + 1] : -1;
            ddpm_step_coefs c;
            ddpm_step_coefs_compute(s, cfg, ts[k], t_prev, &c);
            printf("%d,%d,%d,%.10g,%.10g,%.10g,%.10g\n", k, ts[k], t_prev, c.alpha_bar,
                   c.alpha_bar_prev, c.sigma, c.dir_coef);
        }
    } else {
        for (int k = 0; k < S; k++) printf(k ? ", %d" : "%d", ts[k]);
        printf("\n");
    }
    free(ts);
    return DDPM_OK;
}

int ddpm_cmd_schedule(int argc, char **argv)
{
    const char *schedule_name = "linear", *spacing_name = "leading", *sampler_name = "ddim";
    int T = DDPM_T_DEFAULT, steps = 0;
    double beta_start = 1e-4, beta_end = 0.02, eta = 0.0;
    bool csv = false;
    const ddpm_arg_spec specs[] = {
        {"schedule", ARG_STRING, &schedule_name, 0, 0, "NAME", "linear|scaled-linear|cosine|sqrt|sigmoid (sqrt_linear, the seed notes' name, is linear)"},
        {"T", ARG_INT, &T, 0, 0, "N", "number of diffusion timesteps (2..4000)"},
        {"beta-start", ARG_DOUBLE, &beta_start, 0, 0, "X", "first beta"},
        {"beta-end", ARG_DOUBLE, &beta_end, 0, 0, "X", "last beta"},
        {"csv", ARG_FLAG, &csv, 0, 0, NULL, "print every row as CSV"},
        {"steps", ARG_INT, &steps, 0, 0, "S", "print the timestep list of an S-step sampler"},
        {"spacing", ARG_STRING, &spacing_name, 0, 0, "NAME", "leading|trailing|linspace"},
        {"sampler", ARG_STRING, &sampler_name, 0, 0, "NAME", "ddpm|ddim (with --steps)"},
        {"eta", ARG_DOUBLE, &eta, 0, 0, "X", "DDIM eta, for the sigma column of --steps --csv"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    int rc = ddpm_args_parse(specs, n_specs, argc, argv, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "schedule", SUMMARY, specs, n_specs);
        return 0;
    }
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    ddpm_sampler_config cfg = ddpm_sampler_config_default();
    if (rc != DDPM_OK || ddpm_schedule_parse(schedule_name, &sc.kind, &err) != DDPM_OK ||
        ddpm_spacing_parse(spacing_name, &cfg.spacing, &err) != DDPM_OK ||
        ddpm_sampler_parse(sampler_name, &cfg.sampler, &err) != DDPM_OK) {
        fprintf(stderr, "ddpm schedule: %s\n", err.msg);
        return DDPM_EXIT_BAD_INPUT;
    }
    ddpm_cli_note_schedule_alias("schedule", schedule_name);
    sc.T = T;
    sc.beta_start = beta_start;
    sc.beta_end = beta_end;
    ddpm_schedule s;
    if (ddpm_schedule_init(&s, &sc, &err) != DDPM_OK) {
        fprintf(stderr, "ddpm schedule: %s\n", err.msg);
        return DDPM_EXIT_BAD_INPUT;
    }
    int status = 0;
    if (steps != 0) {
        cfg.steps = steps;
        cfg.eta = eta;
        if (print_timesteps(&s, &cfg, csv, &err) != DDPM_OK) {
            fprintf(stderr, "ddpm schedule: %s\n", err.msg);
            status = DDPM_EXIT_BAD_INPUT;
        }
    } else if (csv) {
        print_table_csv(&s);
    } else {
        print_table_summary(&s);
    }
    ddpm_schedule_free(&s);
    return status;
}
