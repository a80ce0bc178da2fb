#!/usr/bin/env python3
"""scheduler_ref.py: independent reference values for the scheduler tests.

Computes every schedule table, the sampler timestep lists and a set of
reverse steps with numpy (Debian's python3-numpy), straight from the papers'
formulas, and writes them to tests/data/scheduler_ref.txt.  The C test
(tests/test_scheduler.c) recomputes them with src/core/scheduler.c and
compares.  CI needs no Python: the output file is committed.

Format: one record per line, `kind key=value ... : v0 v1 ...`.

Sources:  DDPM (Ho et al. 2020) eqs. 2, 4, 7, 11; DDIM (Song et al. 2021)
eqs. 12, 16; cosine schedule (Nichol & Dhariwal 2021) eq. 17; v-prediction
(Salimans & Ho 2022) sec. 4; timestep spacings as in diffusers'
DDIMScheduler.set_timesteps.

usage: python3 tools/scheduler_ref.py [out_path]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ddpm_torch.schedule import betas_for  # noqa: E402  (the formulas, in numpy; no C)

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/data/scheduler_ref.txt"


def tables(kind, T, b0, b1):
    beta = betas_for(kind, T, b0, b1)
    alpha = 1 - beta
    ab = np.cumprod(alpha)
    ab_prev = np.concatenate([[1.0], ab[:-1]])
    return {
        "beta": beta,
        "alpha": alpha,
        "alpha_bar": ab,
        "sqrt_alpha_bar": np.sqrt(ab),
        "sqrt_one_minus_alpha_bar": np.sqrt(1 - ab),
        "snr": ab / (1 - ab),
        "posterior_variance": beta * (1 - ab_prev) / (1 - ab),
        "posterior_mean_coef_x0": beta * np.sqrt(ab_prev) / (1 - ab),
        "posterior_mean_coef_xt": (1 - ab_prev) * np.sqrt(alpha) / (1 - ab),
    }


def timesteps(T, S, spacing):
    if spacing == "leading":
        ratio = T // S
        return (np.arange(0, S) * ratio)[::-1].astype(np.int64)
    if spacing == "trailing":
        ratio = T / S
        return (np.round(np.arange(T, 0, -ratio)) - 1).astype(np.int64)[:S]
    if spacing == "linspace":
        return np.round(np.linspace(0, T - 1, S))[::-1].astype(np.int64)
    raise ValueError(spacing)


def fmt(values):
    return " ".join("%.17g" % v for v in values)


def step_inputs(n):
    i = np.arange(n, dtype=np.float64)
    # float32 inputs, as the C side stores them
    x_t = np.sin(0.7 * i + 0.3).astype(np.float32).astype(np.float64) * 1.5
    out = (np.cos(1.3 * i) * 1.2).astype(np.float32).astype(np.float64)
    z = np.sin(2.1 * i + 1.0).astype(np.float32).astype(np.float64)
    return x_t.astype(np.float32).astype(np.float64), out, z


def reference_step(tab, pred, sampler, eta, variance, clip, recompute, t, t_prev, n):
    x_t, out, z = step_inputs(n)
    ab = tab["alpha_bar"][t]
    ab_prev = 1.0 if t_prev < 0 else tab["alpha_bar"][t_prev]
    sa, so = np.sqrt(ab), np.sqrt(1 - ab)
    if pred == "eps":
        eps = out
        x0 = (x_t - so * eps) / sa
    elif pred == "v":
        x0 = sa * x_t - so * out
        eps = so * x_t + sa * out
    else:
        x0 = out
        eps = (x_t - sa * x0) / so
    if clip:
        x0 = np.clip(x0, -1, 1)
        if recompute:
            eps = (x_t - sa * x0) / so
    beta = 1 - ab / ab_prev
    post_var = (1 - ab_prev) / (1 - ab) * beta
    x0_term = np.sqrt(ab_prev) * x0
    if sampler == "ddim":
        # DDIM eq. 16
        sigma = eta * np.sqrt((1 - ab_prev) / (1 - ab)) * np.sqrt(1 - ab / ab_prev)
        if t_prev < 0:
            sigma = 0.0
        dir_term = np.sqrt(max(1 - ab_prev - sigma ** 2, 0.0)) * eps
    else:
        # DDPM eq. 7 posterior mean with the (respaced) beta
        c0 = np.sqrt(ab_prev) * beta / (1 - ab)
        ct = np.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab)
        mean = c0 * x0 + ct * x_t
        dir_term = mean - x0_term
        var = beta if variance == "large" else post_var
        sigma = 0.0 if t_prev < 0 else np.sqrt(var)
    noise_term = sigma * z
    x_prev = x0_term + dir_term + noise_term
    return {"x_prev": x_prev, "x0_hat": x0, "eps_hat": eps, "x0_term": x0_term,
            "dir_term": dir_term, "noise_term": noise_term, "sigma": np.array([sigma])}


def main():
    lines = []
    configs = []
    for kind in ["linear", "scaled-linear", "cosine", "sqrt", "sigmoid"]:
        for T in [2, 37, 1000, 4000]:
            configs.append((kind, T, 1e-4, 0.02))
        configs.append((kind, 500, 1e-3, 0.05))
    for kind, T, b0, b1 in configs:
        tab = tables(kind, T, b0, b1)
        # rows: all of them, except for T=4000 where every 61st and the last
        rows = np.arange(T) if T <= 1000 else np.unique(np.concatenate([np.arange(0, T, 61), [T - 1]]))
        lines.append("rows schedule=%s T=%d b0=%.17g b1=%.17g : %s" %
                     (kind, T, b0, b1, " ".join(str(r) for r in rows)))
        for name, col in tab.items():
            lines.append("table schedule=%s T=%d b0=%.17g b1=%.17g col=%s : %s" %
                         (kind, T, b0, b1, name, fmt(col[rows])))

    for T in [1000, 37, 10]:
        for S in [1, 2, 7, 50, 999, 1000, 37, 10, 3]:
            if S > T:
                continue
            for spacing in ["leading", "trailing", "linspace"]:
                ts = timesteps(T, S, spacing)
                assert len(ts) == S and np.all(np.diff(ts) < 0) and ts.min() >= 0 and ts.max() < T, (T, S, spacing, ts)
                lines.append("timesteps T=%d S=%d spacing=%s : %s" %
                             (T, S, spacing, " ".join(str(int(t)) for t in ts)))

    n = 16
    for kind in ["linear", "cosine"]:
        T = 1000
        tab = tables(kind, T, 1e-4, 0.02)
        for pred in ["eps", "v", "x0"]:
            for (t, t_prev) in [(999, 979), (500, 499), (20, 0), (0, -1), (35, -1)]:
                cases = [("ddim", 0.0, "small"), ("ddim", 0.5, "small"), ("ddim", 1.0, "small"),
                         ("ddpm", 0.0, "small"), ("ddpm", 0.0, "large")]
                for sampler, eta, variance in cases:
                    for clip, recompute in [(0, 0), (1, 0), (1, 1)]:
                        res = reference_step(tab, pred, sampler, eta, variance, clip, recompute,
                                             t, t_prev, n)
                        head = ("step schedule=%s T=%d pred=%s sampler=%s eta=%.17g variance=%s "
                                "clip=%d recompute=%d t=%d tprev=%d n=%d" %
                                (kind, T, pred, sampler, eta, variance, clip, recompute, t, t_prev, n))
                        for key, val in res.items():
                            lines.append("%s out=%s : %s" % (head, key, fmt(val)))

    with open(OUT, "w") as f:
        f.write("# generated by tools/scheduler_ref.py (numpy %s); do not edit\n" % np.__version__)
        f.write("\n".join(lines) + "\n")
    print("wrote", OUT, len(lines), "records")


if __name__ == "__main__":
    main()
