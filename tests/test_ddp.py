#!/usr/bin/env python3
"""test_ddp.py: the scale-out path (python/train_ddp.py) on 2 CPU processes with gloo.

  test_ddp.py grad_average   2 processes x batch 32 = 1 process x batch 64
  test_ddp.py c_loads        a DDP checkpoint loads in C; C's forward = PyTorch's
  test_ddp.py resume         a C run resumed in PyTorch, and a PyTorch run in C

(--ddpm: the ddpm binary; --forward: tests/helpers/ckpt_forward.)  Runs use the
`live` preset, the smallest UNet, for a few steps: the properties tested do
not depend on the size.  Exit 0 pass, 1 fail.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from ddpm_torch import checkpoint as ckpt  # noqa: E402
from ddpm_torch import st_io  # noqa: E402
from ddpm_torch.schedule import ema_decay_at, lr_at  # noqa: E402

TRAINER = os.path.join(ROOT, "python", "train_ddp.py")
FAILS = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        FAILS.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        print(p.stdout)
        raise SystemExit(f"FAIL  command exited {p.returncode}: {' '.join(cmd)}")
    return p.stdout


def ddp(nproc, *args):
    """train_ddp.py under torchrun with nproc CPU processes (its own port, so tests run side by side)."""
    launch = [sys.executable, os.path.join(ROOT, "python", "torchrun.py"), "--nnodes=1", f"--nproc_per_node={nproc}",
              "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{free_port()}", f"--rdzv_id={uuid.uuid4().hex}"]
    return run(launch + [TRAINER, "--device", "cpu", "--threads", "1", "--quiet"] + list(args))


def groups_of(path):
    c = ckpt.load(path)
    return c, {g: c.groups[g] for g in c.groups}


def max_diff(a, b):
    return max(float(np.abs(a[k].astype(np.float64) - b[k]).max()) for k in a)


def max_abs(a):
    return max(float(np.abs(a[k]).max()) for k in a)


# ---- 1. gradient averaging -----------------------------------------------------------

def grad_average(tmp, _args):
    common = ["--preset", "live", "--steps", "4", "--warmup", "2", "--seed", "7", "--save-every", "1000"]
    ddp(1, *common, "--batch", "64", "--out", f"{tmp}/one")
    ddp(2, *common, "--batch", "64", "--out", f"{tmp}/two")
    ddp(1, *common, "--batch", "32", "--out", f"{tmp}/half")
    c1, g1 = groups_of(f"{tmp}/one/ckpt.safetensors")
    c2, g2 = groups_of(f"{tmp}/two/ckpt.safetensors")
    _, gh = groups_of(f"{tmp}/half/ckpt.safetensors")
    check(c1.step == c2.step == 4 and c1.adam_step == c2.adam_step == 4, "both runs took 4 steps")
    check(c1.train["batch"] == c2.train["batch"] == 64, "the global batch is 64 in both")
    scale = max_abs(g1["model"])
    moved = max_diff(g1["model"], {k: gh["model"][k] for k in g1["model"]})
    for g in ("model", "ema", "adam_m", "adam_v"):
        d = max_diff(g1[g], g2[g])
        # float rounding: the two sum the batch's gradients in different orders, and
        # Adam divides by sqrt(v), which amplifies it where gradients are tiny
        tol = 2e-5 * max(1.0, max_abs(g1[g]))
        check(d <= tol, f"{g}: 2 processes x 32 = 1 process x 64 (max diff {d:.2e}, tolerance {tol:.1e})")
    # the tolerance means something: half the batch (the samples of one process alone) lands elsewhere
    check(moved > 100 * 2e-5 * max(1.0, scale),
          f"1 process x 32 differs from x 64 by {moved:.2e}: the test can tell an unaveraged gradient")


# ---- 2. a DDP checkpoint in C -------------------------------------------------------------

def c_loads(tmp, args):
    import torch
    ddp(2, "--preset", "live", "--steps", "6", "--warmup", "2", "--batch", "16", "--out", f"{tmp}/run")
    out = run([args.ddpm, "sample", f"{tmp}/run/model.safetensors", "-n", "4", "--steps", "5",
               "--out", f"{tmp}/s.png"])
    check(os.path.getsize(f"{tmp}/s.png") > 0 and "4 samples" in out, "ddpm sample loads the DDP model")
    c = ckpt.load(f"{tmp}/run/ckpt.safetensors")
    rng = np.random.default_rng(3)
    for group in ("ema", "model"):
        model = c.model(group).eval()
        x = torch.from_numpy(rng.standard_normal((3, 1, 28, 28)).astype(np.float32))
        t = torch.tensor([0, 480, 999])
        with torch.no_grad():
            y = model.double()(x.double(), t)
        io = f"{tmp}/io_{group}.safetensors"
        st_io.save(io, {"input.x": x.numpy(), "input.t": t.numpy().astype(np.float32), "expect.out": y.numpy()})
        path = f"{tmp}/run/ckpt.safetensors"
        if group == "model":  # C samples with ema when present: give it a file of the raw weights alone
            path = f"{tmp}/raw.safetensors"
            ckpt.save(path, arch=c.arch, net=c.net, scheduler=c.scheduler, train=c.train, dataset=c.dataset,
                      step=c.step, seed=c.seed, groups={"model": c.state_dict("model")})
        p = subprocess.run([args.forward, path, io], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(p.stdout.strip())
        check(p.returncode == 0, f"{group}: C's forward matches PyTorch's on the DDP checkpoint")
        check("preset live step 6" in p.stdout, f"{group}: C reads the preset and the step")
    check(c.has("adam_m") and c.adam_step == 6, "the checkpoint carries the Adam moments and step")
    # a cluster's global batch (beyond the 1024 C trains with) still loads for sampling
    big = dict(c.train, batch=4096)
    ckpt.save(f"{tmp}/big.safetensors", arch=c.arch, net=c.net, scheduler=c.scheduler, train=big, dataset=c.dataset,
              step=c.step, seed=c.seed, groups={"ema": c.state_dict("ema")})
    p = subprocess.run([args.forward, f"{tmp}/big.safetensors", f"{tmp}/io_ema.safetensors"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 0, "a checkpoint of global batch 4096 loads in C: " + p.stdout.strip())
    # bad input: a message and exit 2, before any work
    for bad, needle in ((["--steps", "0"], "--steps"), (["--batch", "3"], "divisible"),
                        (["--data", f"{tmp}/nowhere"], "not a folder"), ([], "already holds")):
        launch = [sys.executable, TRAINER, "--preset", "live", "--device", "cpu", "--quiet", "--out", f"{tmp}/run"]
        if bad != []:
            launch[-1] = f"{tmp}/fresh"
        p = subprocess.run(launch + bad + (["--batch", "4"] if "--batch" not in bad else []),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=dict(os.environ, WORLD_SIZE="2", RANK="0", LOCAL_RANK="0") if "divisible" == needle
                           else None)
        check(p.returncode == 2 and needle in p.stdout, f"train_ddp {' '.join(bad) or '(existing run)'}: exit 2, "
                                                        f"'{needle}': {p.stdout.strip()[:160]}")
    p = subprocess.run([sys.executable, TRAINER, "--resume", "--pred", "v", "--quiet", "--out", f"{tmp}/run"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 2 and "would change it" in p.stdout, "train_ddp --resume --pred v of an eps run: exit 2: " +
          p.stdout.strip()[:160])


# ---- 3. resume across the languages ---------------------------------------------------------

def continues(tmp, before_path, after_dir, first_step, who):
    """The one-step continuation of a run: step, Adam step, EMA and moments carried over."""
    b = ckpt.load(before_path)
    a = ckpt.load(f"{after_dir}/ckpt.safetensors")
    check(a.step == first_step + 1 and a.adam_step == first_step + 1,
          f"{who}: step {b.step} -> {a.step}, Adam step {b.adam_step} -> {a.adam_step}")
    b2 = float(b.train["beta2"])
    # (elements whose v is rounding noise, ~1e-16, are left out: attention's key bias has a zero gradient)
    ratio = min(float((a.groups["adam_v"][k] / (b2 * b.groups["adam_v"][k]))[b.groups["adam_v"][k] > 1e-12].min())
                for k in a.groups["adam_v"] if np.any(b.groups["adam_v"][k] > 1e-12))
    check(ratio >= 1 - 1e-5, f"{who}: v' = b2 v + (1 - b2) g^2 >= b2 v everywhere (min ratio {ratio:.6f}): "
                            "the second moments carried over")
    d = ema_decay_at(float(a.train["ema_decay"]), first_step, float(a.train.get("ema_warmup", 10.0)))
    err = max(float(np.abs(a.groups["ema"][k] - (d * b.groups["ema"][k] + (1 - d) * a.groups["model"][k])).max())
              for k in a.groups["ema"])
    check(err < 1e-5, f"{who}: EMA' = {d:.4f} EMA + (1 - {d:.4f}) weights' (max error {err:.1e}): the EMA carried over")
    mv = max_diff(a.groups["model"], b.groups["model"])
    lr = lr_at(a.train, first_step)
    check(0 < mv <= 1.01 * lr * 10, f"{who}: one step moved the weights by {mv:.2e}, within Adam's "
                                    f"bound for lr {lr:.2e} at step {first_step}")


def last_loss(run_dir):
    with open(f"{run_dir}/loss.csv") as f:
        rows = [line.split(",") for line in f.read().strip().split("\n")[1:]]
    return [(int(r[0]), float(r[1]), float(r[2])) for r in rows]


def resume(tmp, args):
    # C -> PyTorch: 40 steps in C, then one in PyTorch from its checkpoint
    run([args.ddpm, "train", "--preset", "live", "--steps", "40", "--warmup", "5", "--log-every", "10",
         "--sample-every", "0", "--quiet", "--threads", "1", "--out", f"{tmp}/c"])
    shutil.copy(f"{tmp}/c/ckpt.safetensors", f"{tmp}/c_at40.safetensors")
    ddp(2, "--resume", "--steps", "41", "--log-every", "1", "--out", f"{tmp}/c")
    continues(tmp, f"{tmp}/c_at40.safetensors", f"{tmp}/c", 40, "C -> PyTorch")
    loss_continues(f"{tmp}/c", "C -> PyTorch")
    out = run([args.ddpm, "sample", f"{tmp}/c/model.safetensors", "-n", "2", "--steps", "4", "--out", f"{tmp}/c.png"])
    check("2 samples" in out, "C -> PyTorch: ddpm sample loads the result")

    # PyTorch -> C
    ddp(2, "--preset", "live", "--steps", "40", "--warmup", "5", "--log-every", "10", "--out", f"{tmp}/p")
    shutil.copy(f"{tmp}/p/ckpt.safetensors", f"{tmp}/p_at40.safetensors")
    run([args.ddpm, "train", "--resume", "--steps", "41", "--log-every", "1", "--sample-every", "0", "--quiet",
         "--threads", "1", "--out", f"{tmp}/p"])
    continues(tmp, f"{tmp}/p_at40.safetensors", f"{tmp}/p", 40, "PyTorch -> C")
    loss_continues(f"{tmp}/p", "PyTorch -> C")

    # both languages give the live preset the same recipe (weighting, where t is drawn, prediction)
    c, p = ckpt.load(f"{tmp}/c_at40.safetensors"), ckpt.load(f"{tmp}/p_at40.safetensors")
    for k in ("min_snr_gamma", "t_logit_mean", "t_logit_std", "beta2", "ema_warmup"):
        check(c.train.get(k) == p.train.get(k), f"the live preset's {k}: C {c.train.get(k)}, PyTorch {p.train.get(k)}")
    check(c.scheduler["prediction"] == p.scheduler["prediction"], "the live preset's prediction type")


def loss_continues(run_dir, who):
    """loss.csv keeps the first language's rows and the resumed step's loss is where
    that run had got to, not back at the start (both runs are seeded: no flakiness)."""
    rows = last_loss(run_dir)
    check([r[0] for r in rows] == [10, 20, 30, 40, 41], f"{who}: loss.csv continues the rows (steps {[r[0] for r in rows]})")
    first, at40, step41 = rows[0][1], rows[3][2], rows[-1][1]
    check(step41 < 0.7 * first and step41 < 1.5 * at40,
          f"{who}: the loss continues: {first:.3f} over steps 1-10, smoothed {at40:.3f} at 40, {step41:.3f} at step 41")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=("grad_average", "c_loads", "resume"))
    ap.add_argument("--ddpm", required=True)
    ap.add_argument("--forward", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ddpm-ddp-")
    try:
        {"grad_average": grad_average, "c_loads": c_loads, "resume": resume}[args.case](tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
