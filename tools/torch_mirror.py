#!/usr/bin/env python3
"""torch_mirror.py: ddpm-lab's networks (the UNet and the MLP) defined again in
PyTorch, as an oracle.

The modules below have the same architectures and the same parameter names as
src/core/unet_build.c and src/core/mlp_build.c, so that a ddpm-lab checkpoint
loads into them directly and both implementations can be run on identical
weights.  It is used

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
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402


# ---- the network ------------------------------------------------------------

def timestep_embedding(t, dim, max_period=10000.0):
    """Vaswani et al. sec. 3.5 as in DDPM: [sin(t f_i), cos(t f_i)], f_i = exp(-ln(P) i / half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    args = t.to(torch.float64)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, temb_dim, groups, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in, eps=1e-5)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temb_proj = nn.Linear(temb_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out, eps=1e-5)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x, silu_temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(silu_temb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


class Attention(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=1e-5)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        qkv = self.qkv(self.norm(x)).reshape(B, 3, C, H * W)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        s = torch.einsum("bci,bcj->bij", q, k) / math.sqrt(C)
        p = torch.softmax(s, dim=-1)
        out = torch.einsum("bij,bcj->bci", p, v).reshape(B, C, H, W)
        return x + self.proj(out)


class Level(nn.Module):
    pass


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        base, mult, nres = cfg["base_channels"], cfg["channel_mult"], cfg["res_blocks"]
        attn, groups, tdim = cfg["attention"], cfg["groups"], cfg["time_embed_dim"]
        drop = cfg.get("dropout", 0.0)
        self.time_embed = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.conv_in = nn.Conv2d(cfg["in_channels"], base, 3, padding=1)
        self.down = nn.ModuleList()
        chans = [base]
        ch = base
        for l, m in enumerate(mult):
            level = Level()
            level.res = nn.ModuleList()
            level.attn = nn.ModuleList()
            for _ in range(nres):
                level.res.append(ResBlock(ch, base * m, tdim, groups, drop))
                ch = base * m
                if attn[l]:
                    level.attn.append(Attention(ch, groups))
                chans.append(ch)
            if l + 1 < len(mult):
                level.downsample = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
                chans.append(ch)
            self.down.append(level)
        self.mid = nn.Module()
        self.mid.res1 = ResBlock(ch, ch, tdim, groups, drop)
        if cfg["mid_attention"]:
            self.mid.attn = Attention(ch, groups)
        self.mid.res2 = ResBlock(ch, ch, tdim, groups, drop)
        self.up = nn.ModuleList([None] * len(mult))
        for l in reversed(range(len(mult))):
            level = Level()
            level.res = nn.ModuleList()
            level.attn = nn.ModuleList()
            for _ in range(nres + 1):
                level.res.append(ResBlock(ch + chans.pop(), base * mult[l], tdim, groups, drop))
                ch = base * mult[l]
                if attn[l]:
                    level.attn.append(Attention(ch, groups))
            if l > 0:
                level.upsample = nn.Conv2d(ch, ch, 3, padding=1)
            self.up[l] = level
        self.norm_out = nn.GroupNorm(groups, ch, eps=1e-5)
        self.conv_out = nn.Conv2d(ch, cfg["out_channels"], 3, padding=1)

    def forward(self, x, t):
        cfg = self.cfg
        temb = self.time_embed(timestep_embedding(t, cfg["base_channels"]).to(x.dtype))
        st = F.silu(temb)
        h = self.conv_in(x)
        skips = [h]
        for l, level in enumerate(self.down):
            for r, block in enumerate(level.res):
                h = block(h, st)
                if len(level.attn):
                    h = level.attn[r](h)
                skips.append(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
                skips.append(h)
        h = self.mid.res1(h, st)
        if hasattr(self.mid, "attn"):
            h = self.mid.attn(h)
        h = self.mid.res2(h, st)
        for l in reversed(range(len(self.up))):
            level = self.up[l]
            for r, block in enumerate(level.res):
                h = block(torch.cat([h, skips.pop()], dim=1), st)
                if len(level.attn):
                    h = level.attn[r](h)
            if hasattr(level, "upsample"):
                h = level.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


class MLPBlock(nn.Module):
    def __init__(self, hidden, temb_dim, norm):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, eps=1e-5) if norm else nn.Identity()
        self.fc1 = nn.Linear(hidden, hidden)
        self.temb_proj = nn.Linear(temb_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, h, silu_temb):
        a = self.fc1(F.silu(self.norm(h))) + self.temb_proj(silu_temb)
        return h + self.fc2(F.silu(a))


def fourier_features(x, K):
    """layers.h: [x, sin(2^k x) for d, k, cos(2^k x) for d, k], d major."""
    if K == 0:
        return x
    w = 2.0 ** torch.arange(K, dtype=torch.float64)
    a = (x.to(torch.float64)[:, :, None] * w).reshape(x.shape[0], -1)
    return torch.cat([x, torch.sin(a).to(x.dtype), torch.cos(a).to(x.dtype)], dim=1)


class MLP(nn.Module):
    """ddpm/mlp.h: samples of D values as (B, D, 1, 1), a residual MLP over them."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, H, tdim = cfg["data_dim"], cfg["hidden"], cfg["time_embed_dim"]
        self.time_embed = nn.Sequential(nn.Linear(H, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.in_proj = nn.Linear(D * (1 + 2 * cfg["fourier"]), H)
        self.blocks = nn.ModuleList([MLPBlock(H, tdim, cfg["norm"]) for _ in range(cfg["blocks"])])
        self.norm_out = nn.LayerNorm(H, eps=1e-5) if cfg["norm"] else nn.Identity()
        self.out_proj = nn.Linear(H, D)

    def forward(self, x, t):
        shape = x.shape
        st = F.silu(self.time_embed(timestep_embedding(t, self.cfg["hidden"]).to(x.dtype)))
        h = self.in_proj(fourier_features(x.reshape(shape[0], -1), self.cfg["fourier"]))
        for block in self.blocks:
            h = block(h, st)
        return self.out_proj(F.silu(self.norm_out(h))).reshape(shape)


def build(arch, cfg):
    """The network of an architecture name and its config (a checkpoint's metadata)."""
    return {"unet": UNet, "mlp": MLP}[arch](cfg)


def sample_shape(arch, cfg):
    """(C, H, W) of one sample, as ddpm_net_config_shape."""
    if arch == "mlp":
        return (cfg["data_dim"], 1, 1)
    return (cfg["in_channels"], cfg["image_size"], cfg["image_size"])


def arch_of(meta):
    """A checkpoint's architecture and config; files without "arch" hold a UNet."""
    arch = meta.get("arch", "unet")
    return arch, json.loads(meta[arch])


def load_weights(model, tensors, prefix):
    """Loads `prefix + name` tensors into the model, requiring an exact match of names and shapes."""
    state = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in tensors.items()
             if k.startswith(prefix)}
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    if missing or extra:
        raise ValueError(f"parameter names differ: missing {missing[:5]}, unexpected {extra[:5]}")
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise ValueError(f"{k}: shape {tuple(v.shape)} vs {tuple(own[k].shape)}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


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
