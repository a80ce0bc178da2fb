"""schedule.py: the diffusion process and the training recipe of `ddpm train`,
in numpy/PyTorch, for the DDP trainer.  Each formula mirrors one in the C core
and names it; the sources are the papers the C comments cite.

  betas_for        src/core/scheduler.c   DDPM (Ho et al. 2020) sec. 4; cosine:
                                          Nichol & Dhariwal 2021 eq. 17
  target           ddpm_prediction_target  eps; v = sqrt(ab) eps - sqrt(1-ab) x0
                                          (Salimans & Ho 2022 sec. 4); x0
  loss_weight      ddpm_loss_weight       Min-SNR-gamma (Hang et al. 2023)
  lr_at            ddpm_adam_lr_at        linear warmup, then one cosine cycle
                                          (Loshchilov & Hutter 2017, SGDR eq. 5)
  ema_decay_at     ddpm_ema_decay_at      min(max, (1 + s) / (warmup + s))
  t_logit_normal   ddpm_t_logit_normal    floor(T sigmoid(m + s z)) (Esser et al. 2024)
"""
import math

import numpy as np
import torch

PREDICTIONS = ("eps", "v", "x0")
SCHEDULES = ("linear", "scaled-linear", "cosine", "sqrt", "sigmoid")


def betas_for(kind, T, b0, b1):
    """beta_1..beta_T of a schedule, float64 (tools/scheduler_ref.py uses these too)."""
    if kind == "linear":
        return np.linspace(b0, b1, T, dtype=np.float64)
    if kind == "scaled-linear":
        return np.linspace(b0 ** 0.5, b1 ** 0.5, T, dtype=np.float64) ** 2
    if kind == "cosine":
        s = 0.008
        steps = np.arange(T + 1, dtype=np.float64) / T
        f = np.cos((steps + s) / (1 + s) * np.pi / 2) ** 2
        ab = f / f[0]
        return np.clip(1 - ab[1:] / ab[:-1], 0, 0.999)
    if kind == "sqrt":
        return np.linspace(b0, b1, T, dtype=np.float64) ** 0.5
    if kind == "sigmoid":
        x = np.linspace(-6, 6, T, dtype=np.float64)
        return 1 / (1 + np.exp(-x)) * (b1 - b0) + b0
    raise ValueError(f"unknown schedule '{kind}'; use one of {', '.join(SCHEDULES)}")


class Process:
    """q(x_t | x_0) of a scheduler config (the checkpoint's "scheduler" JSON)."""

    def __init__(self, sched, device="cpu"):
        self.config = dict(sched)
        beta = betas_for(sched["schedule"], int(sched["T"]), float(sched["beta_start"]), float(sched["beta_end"]))
        ab = np.cumprod(1.0 - beta)
        self.T = int(sched["T"])
        self.prediction = sched["prediction"]
        if self.prediction not in PREDICTIONS:
            raise ValueError(f"unknown prediction '{self.prediction}'; use eps, v or x0")
        self.snr = ab / (1.0 - ab)
        self.sqrt_ab = torch.tensor(np.sqrt(ab), dtype=torch.float32, device=device)
        self.sqrt_1mab = torch.tensor(np.sqrt(1.0 - ab), dtype=torch.float32, device=device)

    def q_sample_and_target(self, x0, t, eps):
        """x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps (DDPM eq. 4) and the prediction's target."""
        shape = (-1,) + (1,) * (x0.dim() - 1)
        sa, so = self.sqrt_ab[t].view(shape), self.sqrt_1mab[t].view(shape)
        x_t = sa * x0 + so * eps
        if self.prediction == "eps":
            target = eps
        elif self.prediction == "v":
            target = sa * eps - so * x0
        else:
            target = x0
        return x_t, target

    def loss_weight(self, t, gamma):
        """Min-SNR-gamma per sample: min(SNR, g)/SNR for eps, /(SNR+1) for v, as is for x0."""
        if gamma <= 0:
            return None
        snr = self.snr[t.cpu().numpy()]
        clipped = np.minimum(snr, gamma)
        w = clipped / snr if self.prediction == "eps" else clipped / (snr + 1.0) if self.prediction == "v" else clipped
        return torch.tensor(w, dtype=torch.float32, device=t.device)


# the live preset's recipe beyond its network (config.c, ddpm_run_config_default):
# where t is drawn (mean, std of the logit-normal), Adam's beta2, the EMA warm-up
LIVE_T_SAMPLING = (-0.25, 0.7)
LIVE_BETA2 = 0.99
LIVE_EMA_WARMUP = 20.0


def t_logit_normal(T, mean, std, z):
    """Timesteps from z ~ N(0, 1) (a tensor): floor(T * sigmoid(mean + std * z)), at most T - 1,
    as ddpm_t_logit_normal (Esser et al. 2024, sec. 3.1)."""
    u = torch.sigmoid(mean + std * z.double())
    return torch.clamp(torch.floor(u * T), 0, T - 1).long()


def parse_t_sampling(spec):
    """--t-sampling: 'uniform' -> (0, 0); 'logit-normal' -> (0, 1); 'logit-normal:M:S' -> (M, S)."""
    if spec == "uniform":
        return 0.0, 0.0
    if spec == "logit-normal":
        return 0.0, 1.0
    parts = spec.split(":")
    if len(parts) == 3 and parts[0] == "logit-normal":
        try:
            m, s = float(parts[1]), float(parts[2])
        except ValueError:
            m = s = float("nan")
        if -4 <= m <= 4 and 0.1 <= s <= 4:
            return m, s
        raise ValueError(f"--t-sampling {spec}: the mean must be in -4..4 and the std in 0.1..4 (0:1 is usual)")
    raise ValueError(f"--t-sampling '{spec}': use uniform, logit-normal or logit-normal:MEAN:STD")


def lr_at(train, step):
    """The learning rate of Adam step `step` (0-based), as ddpm_adam_lr_at."""
    lr, warm = float(train["lr"]), int(train["warmup_steps"])
    if warm > 0 and step < warm:
        return lr * (step + 1) / warm
    s, decay = step - warm, int(train.get("decay_steps", 0))
    if decay <= 0:
        return lr
    f = float(train.get("final_lr", 0.1))
    if s >= decay:
        return lr * f
    return lr * (f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * s / decay)))


def ema_decay_at(max_decay, step, warmup=10.0):
    """EMA decay at trainer step `step` (before it is counted), as ddpm_ema_decay_at."""
    return min(max_decay, (1.0 + step) / (warmup + step))
