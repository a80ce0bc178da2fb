#!/usr/bin/env python3
"""train_ddp.py: `ddpm train` on PyTorch's DistributedDataParallel, for users who
outgrow one machine.  It writes ddpm-lab's run folder and checkpoint format, so
`ddpm sample`, `ddpm eval` and `ddpm viz --model` load the result unchanged,
`ddpm train --resume` continues it in C, and this script resumes a C run.

  one process:     python3 python/train_ddp.py --preset small --data digits --out runs/ddp
  N processes:     torchrun --standalone --nproc_per_node=N python/train_ddp.py ...
  a GPU per proc:  the same on a CUDA machine: NCCL, bf16 autocast (--amp off: fp32)
  several nodes:   torchrun --nnodes=2 --node_rank=R --nproc_per_node=G \\
                     --rdzv_backend=c10d --rdzv_endpoint=HOST:29400 --rdzv_id=JOB \\
                     python/train_ddp.py ...         (README, "Scaling out")

The recipe is `ddpm train`'s (src/core/trainer.c): t ~ U{0..T-1}, eps ~ N(0, I),
x_t = q_sample(x0, t, eps), MSE to the prediction's target (eps, v or x0),
optionally Min-SNR-gamma weighted; gradients averaged over all processes (DDP);
global-norm clipping; AdamW with linear warmup and an optional cosine decay;
EMA with the (1 + s) / (10 + s) warm-up.  --batch is the global batch: each of
the N processes takes batch / N samples.

Determinism: a DistributedSampler (seed, epoch) orders the data; the t and eps
of the global batch of step s come from a generator seeded by (seed, s), and
each process takes the rows of its own samples, so N processes x batch B/N
compute the same update as one process x batch B (tests/test_ddp.py checks it)
and a resumed run repeats what an uninterrupted one does.  The C trainer
draws its batches and noise with its own generator: a run moved between C and
PyTorch continues the same optimisation (weights, EMA, Adam moments, step,
learning-rate schedule) on other random draws.

Exit status: 0 done, 2 bad input (a message says what), 1 training diverged.
"""
import argparse
import contextlib
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddpm_torch import checkpoint as ckpt  # noqa: E402
from ddpm_torch import data as ddata  # noqa: E402
from ddpm_torch import nets  # noqa: E402
from ddpm_torch.schedule import (PREDICTIONS, SCHEDULES, LIVE_BETA2, LIVE_EMA_WARMUP, LIVE_T_SAMPLING, Process, ema_decay_at, lr_at,  # noqa: E402
                                 parse_t_sampling, t_logit_normal)

LOSS_BINS = 10
LOSS_WINDOW = 20           # DDPM_LOSS_WINDOW: the smoothed loss of include/ddpm/trainer.h
DIVERGED_LOSS = 10.0       # DDPM_TRAIN_DIVERGED_LOSS


class BadInput(Exception):
    pass


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    a = ap.add_argument
    a("--preset", default=None, help="network: live, tiny, small (UNets for 28x28 images) (default small)")
    a("--data", default=None, help="digits (bundled), fashion (Debian's dataset-fashion-mnist) or a folder of IDX files")
    a("--schedule", default="linear", choices=SCHEDULES)
    a("-T", type=int, default=1000, dest="T")
    a("--beta-start", type=float, default=1e-4)
    a("--beta-end", type=float, default=0.02)
    a("--pred", default=None, choices=PREDICTIONS, help="eps|v|x0 (default eps; x0 for live)")
    a("--lr", type=float, default=None, help="peak learning rate (default 1e-3, or the resumed run's)")
    a("--warmup", type=int, default=100)
    a("--decay-steps", type=int, default=0, help="cosine decay of the lr after the warmup, 0 = none")
    a("--final-lr", type=float, default=0.1, help="where the decay ends, as a fraction of --lr")
    a("--min-snr", type=float, default=None, help="Min-SNR-gamma loss weighting, 0 = off (default: the preset's)")
    a("--t-sampling", default=None,
      help="where t is drawn: uniform, or logit-normal[:MEAN:STD] (default: the preset's; logit-normal for live)")
    a("--clip", type=float, default=1.0)
    a("--weight-decay", type=float, default=0.0)
    a("--batch", type=int, default=None, help="global batch over all processes (default 64)")
    a("--steps", type=int, default=None, help="total optimizer steps (default: the preset's, 20000 for small)")
    a("--ema", type=float, default=None, help="EMA decay (default 0.999, or the resumed run's)")
    a("--seed", type=int, default=0)
    a("--out", required=True, help="run folder: ckpt.safetensors, model.safetensors, loss.csv")
    a("--resume", action="store_true", help="continue the run in --out (from C or from this script)")
    a("--force", action="store_true", help="start a new run in a folder that already holds one")
    a("--save-every", type=int, default=500)
    a("--log-every", type=int, default=25)
    a("--threads", type=int, default=0, help="CPU threads per process (0: cores / local processes)")
    a("--device", default="auto", choices=("auto", "cpu", "cuda"))
    a("--amp", default="auto", choices=("auto", "off", "bf16"),
      help="mixed precision: bf16 autocast on CUDA (auto), off: fp32 everywhere")
    a("--quiet", action="store_true")
    return ap.parse_args(argv)


# ---- the process group ----------------------------------------------------------

class Dist:
    """Rank, world and device; a process group only under torchrun (WORLD_SIZE set)."""

    def __init__(self, want):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(self.world)))
        cuda = torch.cuda.is_available() and want in ("auto", "cuda")
        if want == "cuda" and not torch.cuda.is_available():
            raise BadInput("--device cuda: no CUDA device is available; use --device cpu")
        if cuda:
            torch.cuda.set_device(self.local_rank % torch.cuda.device_count())
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")
        self.backend = "nccl" if cuda else "gloo"
        self.active = "WORLD_SIZE" in os.environ and self.world > 1
        if self.active:
            dist.init_process_group(self.backend)

    def all_sum(self, t):
        if self.active:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def all_agree(self, ok):
        """True when every process says ok."""
        t = torch.tensor([0.0 if ok else 1.0], device=self.device)
        return self.all_sum(t).item() == 0.0

    def barrier(self):
        if self.active:
            dist.barrier()

    def close(self):
        if self.active:
            dist.destroy_process_group()


# ---- the data order ---------------------------------------------------------------

class Order:
    """The global batch of step s: DistributedSampler's per-epoch order (seed,
    epoch), each process's share of it, and the position of each of its samples
    in the global batch (for t and eps).  Steps per epoch: floor(N / B)."""

    def __init__(self, n, batch, dd, seed):
        from torch.utils.data.distributed import DistributedSampler
        if batch % dd.world:
            raise BadInput(f"the run's batch {batch} is not divisible by the {dd.world} processes: each takes batch / N")
        self.local = batch // dd.world
        self.sampler = DistributedSampler(range(n), num_replicas=dd.world, rank=dd.rank, shuffle=True,
                                          seed=seed, drop_last=False)
        self.per_epoch = len(self.sampler) // self.local
        if self.per_epoch < 1:
            raise BadInput(f"the dataset holds {n} samples, fewer than the batch {batch}")
        self.epoch, self.indices = -1, None
        self.positions = torch.arange(self.local) * dd.world + dd.rank

    def batch(self, step):
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self.epoch:
            self.sampler.set_epoch(epoch)
            self.indices = torch.tensor(list(iter(self.sampler)), dtype=torch.int64)
            self.epoch = epoch
        return self.indices[i * self.local:(i + 1) * self.local]


def step_noise(seed, step, batch, shape, T, t_mean=0.0, t_std=0.0):
    """t (batch) and eps (batch, *shape) of the global batch of a step, from (seed, step);
    t uniform, or logit-normal where t_std > 0 (as `ddpm train`)."""
    g = torch.Generator().manual_seed((int(seed) * 0x9E3779B1 + int(step) * 0x85EBCA77 + 1) % (1 << 62))
    if t_std > 0:
        t = t_logit_normal(T, t_mean, t_std, torch.randn((batch,), generator=g))
    else:
        t = torch.randint(0, T, (batch,), generator=g)
    eps = torch.randn((batch,) + tuple(shape), generator=g)
    return t, eps


# ---- the run ------------------------------------------------------------------------

def train_config(args, old=None):
    """The "train" JSON: the flags, over a resumed run's for steps, lr and EMA only."""
    name = args.preset or (old or {}).get("preset") or "small"
    live = name == "live"
    if old is not None:
        t = dict(old)
        if args.steps is not None:
            t["total_steps"] = args.steps
        if args.lr is not None:
            t["lr"] = args.lr
        if args.ema is not None:
            t["ema_decay"] = args.ema
        return t
    return {"preset": name, "batch": args.batch or 64,
            "total_steps": args.steps or (20000 if name == "small" else 2000),
            "lr": args.lr or 1e-3, "beta1": 0.9, "beta2": LIVE_BETA2 if live else 0.999, "eps": 1e-8,
            "weight_decay": args.weight_decay, "warmup_steps": args.warmup,
            "decay_steps": args.decay_steps, "final_lr": args.final_lr, "grad_clip": args.clip,
            "ema_decay": args.ema if args.ema is not None else 0.999,
            **({"ema_warmup": LIVE_EMA_WARMUP} if live else {}),
            "min_snr_gamma": args.min_snr if args.min_snr is not None else (1.0 if live else 0.0),
            **t_sampling_keys(parse_t_sampling(args.t_sampling) if args.t_sampling
                              else LIVE_T_SAMPLING if live else (0.0, 0.0))}


def t_sampling_keys(ms):
    """The "train" JSON keys of where t is drawn: none for uniform (as C writes them)."""
    return {"t_logit_mean": ms[0], "t_logit_std": ms[1]} if ms[1] > 0 else {}


def t_sampling_of(train):
    return float(train.get("t_logit_mean", 0.0)), float(train.get("t_logit_std", 0.0))


class LossLog:
    """loss.csv in `ddpm train`'s columns; a resume keeps the rows up to its step."""

    def __init__(self, path, T, resume_step, rank):
        self.path, self.fp, self.smooth_acc, self.smooth_n, self.elapsed = path, None, 0.0, 0, 0.0
        if rank != 0:
            return
        if resume_step > 0 and os.path.exists(path):
            keep = []
            with open(path) as f:
                lines = f.read().split("\n")
            for i, line in enumerate(lines):
                if i == 0:
                    keep.append(line)
                    continue
                parts = line.split(",")
                try:
                    step = int(parts[0])
                    smooth, elapsed = float(parts[2]), float(parts[6])
                except (ValueError, IndexError):
                    break
                if step > resume_step:
                    break
                keep.append(line)
                self.smooth_acc, self.smooth_n, self.elapsed = smooth, 2000, elapsed
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write("\n".join(keep) + "\n")
            os.replace(tmp, path)
            self.fp = open(path, "a")
        else:
            self.fp = open(path, "w")
            self.fp.write("step,loss,loss_smooth,lr,grad_norm,images_per_s,elapsed_s" +
                          "".join(",loss_t%03d" % (b * T // LOSS_BINS) for b in range(LOSS_BINS)) + "\n")

    def smooth(self, loss):
        """ddpm_loss_smooth_add: a 20-step EMA with Adam's bias correction."""
        beta = 1.0 - 1.0 / LOSS_WINDOW
        self.smooth_acc = beta * self.smooth_acc + (1.0 - beta) * loss
        self.smooth_n += 1
        corr = 1.0 - beta ** self.smooth_n if self.smooth_n < 2000 else 1.0
        return self.smooth_acc / corr

    def row(self, step, loss, smooth, lr, gn, ips, elapsed, bins):
        if self.fp:
            cells = ["%.6g" % b if b is not None else "" for b in bins]
            self.fp.write("%d,%.6g,%.6g,%.6g,%.6g,%.1f,%.1f,%s\n" % (step, loss, smooth, lr, gn, ips, elapsed,
                                                                    ",".join(cells)))
            self.fp.flush()


def check_out(args, dd):
    os.makedirs(args.out, exist_ok=True)
    ck_path = os.path.join(args.out, "ckpt.safetensors")
    if args.resume:
        if not os.path.exists(ck_path):
            raise BadInput(f"nothing to resume: '{ck_path}' does not exist; start the run without --resume")
        if not os.path.isfile(ck_path):
            raise BadInput(f"'{ck_path}' is not a regular file (a FIFO or a folder?); resume needs a checkpoint")
        return ck_path
    taken = [n for n in ("ckpt.safetensors", "model.safetensors", "loss.csv") if os.path.exists(os.path.join(args.out, n))]
    if taken and not args.force:
        raise BadInput(f"'{args.out}' already holds {', '.join(taken)}; continue it with --resume, pick another "
                       "--out, or pass --force to start over")
    return ck_path


def validate(args):
    """The flags' ranges, before a process group or any data: a message and exit 2."""
    def need(ok, msg):
        if not ok:
            raise BadInput(msg)
    need(args.steps is None or 1 <= args.steps <= 100_000_000, f"--steps {args.steps}: use 1..100000000")
    need(args.batch is None or 1 <= args.batch <= 1 << 20, f"--batch {args.batch}: use 1..1048576")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    need(args.batch is None or args.batch % world == 0,
         f"--batch {args.batch} is not divisible by the {world} processes: each takes batch / N")
    need(args.lr is None or 0 < args.lr <= 1, f"--lr {args.lr}: use 0 < lr <= 1")
    need(args.warmup >= 0 and args.decay_steps >= 0, "--warmup and --decay-steps must be >= 0")
    need(0 <= args.final_lr <= 1, f"--final-lr {args.final_lr}: use 0..1")
    need(args.clip >= 0, f"--clip {args.clip}: use >= 0 (0 = off)")
    need(0 <= args.weight_decay < 1, f"--weight-decay {args.weight_decay}: use 0 <= wd < 1")
    need(args.ema is None or 0 <= args.ema < 1, f"--ema {args.ema}: use 0 <= decay < 1")
    need(args.min_snr is None or args.min_snr == 0 or 0.1 <= args.min_snr <= 100, "--min-snr: 0 (off) or 0.1..100")
    if args.t_sampling is not None:
        try:
            parse_t_sampling(args.t_sampling)
        except ValueError as e:
            raise BadInput(str(e))
    need(2 <= args.T <= 4000, f"-T {args.T}: use 2..4000")
    need(0 < args.beta_start < args.beta_end < 1, "--beta-start and --beta-end: 0 < start < end < 1")
    need(args.save_every >= 1 and args.log_every >= 1 and args.threads >= 0,
         "--save-every and --log-every must be >= 1, --threads >= 0")


def run(args):
    validate(args)
    dd = Dist(args.device)
    try:
        return _run(args, dd)
    finally:
        dd.close()


def _run(args, dd):
    threads = args.threads or max(1, (os.cpu_count() or 1) // max(1, dd.local_world))
    torch.set_num_threads(threads)
    ck_path = check_out(args, dd)
    try:
        old = ckpt.load(ck_path) if args.resume else None
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise BadInput(f"cannot resume from '{ck_path}': {e}; it is damaged or not a ddpm-lab checkpoint")
    if old is not None:
        for g in ("model", "ema", "adam_m", "adam_v"):
            if not old.has(g):
                raise BadInput(f"'{ck_path}' lacks {g}.*: resume needs a training checkpoint, not an exported model")
        arch, net = old.arch, old.net
        sched = dict(old.scheduler)
        # as `ddpm train --resume`: the run goes on as it was configured
        differs = [f"--{k} {v} (the run's: {w})" for k, v, w in
                   (("preset", args.preset, old.train.get("preset")), ("pred", args.pred, sched["prediction"]),
                    ("data", args.data, old.dataset))
                   if v is not None and v != w]
        if args.t_sampling is not None and parse_t_sampling(args.t_sampling) != t_sampling_of(old.train):
            differs.append(f"--t-sampling {args.t_sampling} (the run's: mean {t_sampling_of(old.train)[0]:g}, "
                           f"std {t_sampling_of(old.train)[1]:g})")
        if args.schedule != "linear" and args.schedule != sched["schedule"]:
            differs.append(f"--schedule {args.schedule} (the run's: {sched['schedule']})")
        if differs:
            raise BadInput(f"--resume continues the run in '{args.out}' as it was configured; "
                           f"{', '.join(differs)} would change it: drop them, or start a new run")
        train = train_config(args, old.train)
        seed, step, adam_step, dataset = old.seed, old.step, old.adam_step, old.dataset
    else:
        try:
            arch, net = nets.preset(args.preset or "small")
        except ValueError as e:
            raise BadInput(str(e))
        if arch != "unet":
            raise BadInput("the DDP trainer trains the image UNets (live, tiny, small); the 2D world's MLP "
                           "trains in seconds with `ddpm train`")
        pred = args.pred or ("x0" if args.preset == "live" else "eps")
        sched = {"schedule": args.schedule, "T": args.T, "beta_start": args.beta_start,
                 "beta_end": args.beta_end, "prediction": pred}
        train = train_config(args)
        seed, step, adam_step, dataset = args.seed, 0, 0, args.data or "digits"
    if arch != "unet":
        raise BadInput(f"'{ck_path}' holds an {arch}; the DDP trainer trains the image UNets")
    batch = int(train["batch"])
    if args.resume and args.batch is not None and args.batch != batch:
        raise BadInput(f"--resume continues the run with its batch {batch}; --batch {args.batch} differs")
    total = int(train["total_steps"])
    proc = Process(sched, dd.device)

    try:
        images, _, _ = ddata.open_images(dataset, "train")
    except (OSError, ValueError) as e:
        raise BadInput(str(e))
    shape = nets.sample_shape(arch, net)
    if tuple(images.shape[1:]) != shape[1:]:
        raise BadInput(f"dataset '{dataset}' has {images.shape[1]}x{images.shape[2]} images; the model expects "
                       f"{shape[1]}x{shape[2]}")
    x_all = torch.from_numpy(ddata.to_pixels(images)).to(dd.device)
    order = Order(len(x_all), batch, dd, seed)

    model = nets.build(arch, net).float()
    if old is not None:
        model.load_state_dict(old.state_dict("model"))
    else:
        nets.init_fresh(model, seed)
    model.to(dd.device)
    params = [p for _, p in model.named_parameters()]
    names = [n for n, _ in model.named_parameters()]
    ema = [p.detach().clone() for p in params]
    if old is not None:
        sd = old.state_dict("ema")
        for e, n in zip(ema, names):
            e.copy_(sd[n].to(dd.device))
    opt = torch.optim.AdamW(params, lr=float(train["lr"]), betas=(float(train["beta1"]), float(train["beta2"])),
                            eps=float(train["eps"]), weight_decay=float(train["weight_decay"]))
    if old is not None and adam_step > 0:
        m, v = old.state_dict("adam_m"), old.state_dict("adam_v")
        for p, n in zip(params, names):
            opt.state[p] = {"step": torch.tensor(float(adam_step)), "exp_avg": m[n].to(dd.device).clone(),
                            "exp_avg_sq": v[n].to(dd.device).clone()}
    ddp = model
    if dd.active:
        ddp = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dd.device.index] if dd.device.type == "cuda" else None,
            gradient_as_bucket_view=True)  # the grads live in the all-reduce buckets: no copy, one layout
    amp = dd.device.type == "cuda" and args.amp in ("auto", "bf16")

    log = LossLog(os.path.join(args.out, "loss.csv"), proc.T, step, dd.rank)
    gamma = float(train.get("min_snr_gamma", 0) or 0)
    t_draw = t_sampling_of(train)
    B, local = batch, order.local
    if dd.rank == 0 and not args.quiet:
        print(f"train_ddp: {arch} preset {train['preset']}, {sum(p.numel() for p in params)} parameters, "
              f"{dd.world} process(es) x batch {local} on {dd.device} ({dd.backend}{', bf16' if amp else ''}, "
              f"{threads} threads each), {dataset}: {len(x_all)} images, steps {step} -> {total}", flush=True)

    def save():
        dd.barrier()
        if dd.rank == 0:
            groups = {"model": dict(zip(names, params)), "ema": dict(zip(names, ema)),
                      "adam_m": {n: opt.state[p]["exp_avg"] if p in opt.state else torch.zeros_like(p)
                                 for n, p in zip(names, params)},
                      "adam_v": {n: opt.state[p]["exp_avg_sq"] if p in opt.state else torch.zeros_like(p)
                                 for n, p in zip(names, params)}}
            common = dict(arch=arch, net=net, scheduler=sched, train=train, dataset=dataset, step=step, seed=seed,
                          created_by=f"ddpm-lab python/train_ddp.py (PyTorch {torch.__version__}, "
                                     f"{dd.world} x {dd.device.type})")
            ckpt.save(ck_path, groups=groups, adam_step=adam_step, **common)
            ckpt.save(os.path.join(args.out, "model.safetensors"), groups={"ema": groups["ema"]}, **common)
        dd.barrier()

    t0 = time.perf_counter()
    interval = {"n": 0, "loss": 0.0, "gn": 0.0, "bins": np.zeros(LOSS_BINS), "bn": np.zeros(LOSS_BINS), "t": t0}
    smooth = None
    positions = order.positions
    while step < total:
        idx = order.batch(step)
        x0 = x_all[idx]
        t_g, eps_g = step_noise(seed, step, B, shape, proc.T, *t_draw)
        t = t_g[positions].to(dd.device)
        eps = eps_g[positions].to(dd.device)
        x_t, target = proc.q_sample_and_target(x0, t, eps)
        # autocast only where it applies: a CPU-only PyTorch (Debian's) cannot build a CUDA one
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext():
            out = ddp(x_t, t)
        per = F.mse_loss(out.float(), target, reduction="none").flatten(1).mean(1)
        w = proc.loss_weight(t, gamma)
        loss_local = (per * w).sum() / local if w is not None else per.mean()
        # the global per-sample losses and t (for the reported loss and loss.csv's bands)
        glob = torch.zeros(2, B, device=dd.device)
        glob[0, positions.to(dd.device)] = per.detach()
        glob[1, positions.to(dd.device)] = t.float()
        dd.all_sum(glob)
        loss = glob[0].mean().item()
        if not math.isfinite(loss) or loss > DIVERGED_LOSS:
            raise FloatingPointError(f"the loss became {loss:.4g} at step {step}: training diverged; the weights "
                                     f"were not updated and the last saved checkpoint is intact; lower --lr")
        opt.zero_grad(set_to_none=False)
        loss_local.backward()  # DDP averages the gradients over the processes
        clip = float(train["grad_clip"])
        if clip > 0:
            gn = torch.nn.utils.clip_grad_norm_(params, clip).item()
        else:
            gn = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params])).item()
        if not math.isfinite(gn):
            raise FloatingPointError(f"the gradient became {gn} at step {step}: training diverged; lower --lr")
        lr = lr_at(train, adam_step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        adam_step += 1
        d = ema_decay_at(float(train["ema_decay"]), step, float(train.get("ema_warmup", 10.0)))
        with torch.no_grad():
            torch._foreach_mul_(ema, d)
            torch._foreach_add_(ema, [p.detach() for p in params], alpha=1.0 - d)
        step += 1

        smooth = log.smooth(loss)
        interval["n"] += 1
        interval["loss"] += loss
        interval["gn"] += gn
        if dd.rank == 0:
            tb = (glob[1].long() * LOSS_BINS // proc.T).cpu().numpy()
            np.add.at(interval["bins"], tb, glob[0].cpu().numpy())
            np.add.at(interval["bn"], tb, 1)
        if step % args.log_every == 0 or step == total:
            now = time.perf_counter()
            ips = interval["n"] * B / max(1e-9, now - interval["t"])
            bins = [interval["bins"][b] / interval["bn"][b] if interval["bn"][b] else None for b in range(LOSS_BINS)]
            log.row(step, interval["loss"] / interval["n"], smooth, lr, interval["gn"] / interval["n"], ips,
                    log.elapsed + now - t0, bins)
            if dd.rank == 0 and not args.quiet:
                print(f"step {step}/{total}  loss {smooth:.4f}  lr {lr:.3g}  {ips:.0f} img/s", flush=True)
            interval = {"n": 0, "loss": 0.0, "gn": 0.0, "bins": np.zeros(LOSS_BINS), "bn": np.zeros(LOSS_BINS),
                        "t": now}
        if step % args.save_every == 0 and step < total:
            save()
    save()
    if dd.rank == 0 and not args.quiet:
        el = time.perf_counter() - t0
        print(f"done: {step} steps in {el:.1f} s; wrote {ck_path} and {os.path.join(args.out, 'model.safetensors')}",
              flush=True)
    return 0


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except BadInput as e:
        print(f"train_ddp: {e}", file=sys.stderr)
        return 2
    except FloatingPointError as e:
        print(f"train_ddp: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
