"""nets.py: ddpm-lab's networks (the UNet and the MLP) in PyTorch: the one
Python definition of them.

Same architectures and parameter names as src/core/unet_build.c and
src/core/mlp_build.c, so that a ddpm-lab checkpoint's `ema.*` / `model.*`
groups load into them as state dicts, and what they save loads in C.  The
parity tests (tools/torch_mirror.py parity -> tests/data/parity_*), the
benchmark (tools/torch_mirror.py bench) and the DDP trainer
(python/train_ddp.py) all use these modules.
"""
import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


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


# ---- presets and initialisation -------------------------------------------------

_UNET_COMMON = dict(in_channels=1, out_channels=1, image_size=28, attention=[False, False, True],
                    res_blocks=1, mid_attention=True, groups=8, dropout=0.0)

# The presets of src/core/unet_config.c and mlp_config.c, as (arch, config).
# A checkpoint written with one loads in C, which names the preset again
# from the network config (tests/test_ddp.py checks that it does).
PRESETS = {
    "live": ("unet", dict(_UNET_COMMON, base_channels=16, channel_mult=[1, 1, 1], time_embed_dim=64)),
    "tiny": ("unet", dict(_UNET_COMMON, base_channels=16, channel_mult=[1, 2, 2], time_embed_dim=64)),
    "small": ("unet", dict(_UNET_COMMON, base_channels=24, channel_mult=[1, 2, 2], time_embed_dim=96)),
    "mlp": ("mlp", dict(data_dim=2, hidden=64, blocks=2, time_embed_dim=64, norm=False, fourier=6)),
}


def preset(name, **overrides):
    """(arch, config) of a preset; overrides replace config fields (e.g. base_channels)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset '{name}'; valid presets are: {', '.join(PRESETS)}")
    arch, cfg = PRESETS[name]
    cfg = json.loads(json.dumps(cfg))
    for k, v in overrides.items():
        if k not in cfg:
            raise ValueError(f"preset '{name}' has no field '{k}'")
        cfg[k] = v
    return arch, cfg


def zero_init_names(model):
    """The layers src/core/*_build.c starts at zero (a ResBlock's second conv,
    attention's output projection, conv_out; the MLP's fc2 and out_proj), so a
    fresh network outputs 0 and each residual branch starts as the identity."""
    out = []
    for name, _ in model.named_parameters():
        if name.startswith("conv_out.") or name.startswith("out_proj.") or \
           ".conv2." in name or ".proj." in name or ".fc2." in name:
            out.append(name)
    return out


def init_fresh(model, seed):
    """Initial weights of a fresh run: PyTorch's default initialisation (fan-in
    uniform, as the C builder's) drawn from `seed`, with the C builder's
    zero-initialised layers at zero."""
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
    try:
        for m in model.modules():
            if hasattr(m, "reset_parameters") and m is not model:
                m.reset_parameters()
    finally:
        torch.random.set_rng_state(state)
    zero = set(zero_init_names(model))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in zero:
                p.zero_()
