#!/usr/bin/env python3
"""torch_mirror.py: the PyTorch mirror of ddpm-lab's networks as an oracle.

The networks themselves are defined once, in python/ddpm_torch/nets.py (the
same architectures and parameter names as src/core/unet_build.c and
src/core/mlp_build.c; the DDP trainer python/train_ddp.py uses them too).
This script uses them

  * to make the parity reference the C tests compare against
    (`parity`: fixed weights, input, timesteps and target -> output, MSE
    loss and every parameter gradient, computed in float64), and
  * by the benchmark, to time PyTorch CPU on the same model (`bench`).

Python and PyTorch (Debian's python3-torch) are needed only to regenerate
the reference data or to benchmark, never to build or run ddpm-lab.

usage:
  python3 tools/torch_mirror.py parity --preset parity1 --out tests/data/parity_gray.safetensors
  python3 tools/torch_mirror.py parity --preset parity_mlp --batch 5 --out tests/data/parity_mlp.safetensors
  python3 tools/torch_mirror.py bench --checkpoint model.safetensors --threads 2
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ddpm_torch import st_io  # noqa: E402
from ddpm_torch.nets import arch_of, build, load_weights, sample_shape  # noqa: E402


# ---- parity reference -----------------------------------------------------------

PARITY_CONFIGS = {
    # gray digits: 28 -> 14 -> 7, attention at 7x7 and in the middle, skip convs, dropout off
    "parity1": dict(in_channels=1, out_channels=1, image_size=28, base_channels=16,
                    channel_mult=[1, 2, 2], res_blocks=1, attention=[False, False, True],
                    mid_attention=True, groups=4, time_embed_dim=32, dropout=0.0),
    # RGB, two levels, two res blocks, attention at the top level
    "parity3": dict(in_channels=3, out_channels=3, image_size=8, base_channels=8,
                    channel_mult=[1, 2], res_blocks=2, attention=[True, False],
                    mid_attention=False, groups=2, time_embed_dim=16, dropout=0.0),
    # the MLP of 2-D points: two blocks with LayerNorm
    "parity_mlp": dict(arch="mlp", data_dim=2, hidden=16, blocks=2, time_embed_dim=8, norm=True, fourier=3),
}


def parity(args):
    cfg = dict(PARITY_CONFIGS[args.preset])
    arch = cfg.pop("arch", "unet")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = build(arch, cfg).double()
    # Random weights everywhere (no zero-initialised layers), so that every
    # gradient is exercised; the scale keeps activations O(1).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or \
               name.endswith("norm.weight") or name == "norm_out.weight":
                p.copy_(torch.from_numpy(1.0 + 0.2 * rng.standard_normal(p.shape)))
            else:
                fan_in = p.shape[1] * (p[0, 0].numel() if p.dim() == 4 else 1) if p.dim() > 1 else 16
                bound = 1.0 / math.sqrt(fan_in)
                p.copy_(torch.from_numpy(rng.uniform(-bound, bound, p.shape)))
            # round to float32 so that C (float32 weights) and this model see the same values
            p.copy_(p.float().double())
    B, shape = args.batch, sample_shape(arch, cfg)
    x = torch.from_numpy(rng.standard_normal((B,) + shape)).float().double()
    t = torch.tensor(rng.integers(0, 1000, B), dtype=torch.int64)
    target = torch.from_numpy(rng.standard_normal((B,) + shape)).float().double()
    x.requires_grad_(True)
    out = model(x, t)
    loss = F.mse_loss(out, target)
    loss.backward()

    tensors = {}
    for name, p in model.named_parameters():
        tensors["model." + name] = p.detach().numpy()
    tensors["input.x"] = x.detach().numpy()
    tensors["input.t"] = t.numpy().astype(np.float64)
    tensors["input.target"] = target.numpy()
    tensors["expect.out"] = out.detach().numpy()
    tensors["expect.loss"] = np.array([loss.item()])
    tensors["expect.dx"] = x.grad.numpy()
    for name, p in model.named_parameters():
        tensors["grad." + name] = p.grad.numpy()
    meta = {"format": "ddpm-lab", "format_version": "1", "arch": arch, arch: json.dumps(cfg),
            "note": "tools/torch_mirror.py parity reference, float64 PyTorch %s" % torch.__version__}
    st_io.save(args.out, tensors, meta, dtype="F32")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: {n_params} parameters, loss {loss.item():.6f}")


# ---- benchmark ------------------------------------------------------------------

def bench(args):
    torch.set_num_threads(args.threads)
    tensors, meta = st_io.load(args.checkpoint)
    arch, cfg = arch_of(meta)
    model = build(arch, cfg).float()
    prefix = "ema." if any(k.startswith("ema.") for k in tensors) else "model."
    load_weights(model, tensors, prefix)
    shape = sample_shape(arch, cfg)
    results = {}

    def timeit(fn, reps):
        fn()  # warm-up
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    for B in args.forward_batches:
        x = torch.randn((B,) + shape)
        t = torch.randint(0, 1000, (B,))
        model.eval()
        with torch.no_grad():
            results[f"forward_b{B}"] = timeit(lambda: model(x, t), args.reps)
    B = args.train_batch
    x = torch.randn((B,) + shape)
    t = torch.randint(0, 1000, (B,))
    target = torch.randn((B,) + shape)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)

    def train_step():
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x, t), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    results[f"train_b{B}"] = timeit(train_step, max(2, args.reps // 2))
    print(json.dumps({"threads": args.threads, "torch": torch.__version__, "seconds": results}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parity", help="write a parity reference file")
    p.add_argument("--preset", default="parity1", choices=sorted(PARITY_CONFIGS))
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=parity)
    b = sub.add_parser("bench", help="time PyTorch CPU on a ddpm-lab checkpoint")
    b.add_argument("--checkpoint", required=True)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--reps", type=int, default=5)
    b.add_argument("--forward-batches", type=int, nargs="+", default=[1, 16])
    b.add_argument("--train-batch", type=int, default=64)
    b.set_defaults(fn=bench)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
