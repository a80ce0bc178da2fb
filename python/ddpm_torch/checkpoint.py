"""checkpoint.py: ddpm-lab's checkpoint format (include/ddpm/checkpoint.h) from
PyTorch: a safetensors file with the groups ema.*, model.*, adam_m.*, adam_v.*
(each a state dict of the network's parameter names) and the metadata
format, format_version, arch, <arch> (network JSON), scheduler, train,
dataset, step, seed, adam_step, created_by.  What `save` writes, the C tools
load unchanged (ddpm sample / eval / viz --model, ddpm train --resume), and
`load` reads what `ddpm train` writes.
"""
import json

import numpy as np
import torch

from . import st_io
from .nets import arch_of, build

FORMAT_VERSION = 1
TRAIN_KEYS = ("preset", "batch", "total_steps", "lr", "beta1", "beta2", "eps", "weight_decay",
              "warmup_steps", "decay_steps", "final_lr", "grad_clip", "ema_decay")


class Checkpoint:
    """A loaded checkpoint: arch, net config, scheduler and train configs, step,
    adam_step, seed, dataset and the groups present (numpy arrays by name)."""

    def __init__(self, tensors, meta, path="(memory)"):
        if meta.get("format") != "ddpm-lab":
            raise ValueError(f"{path}: not a ddpm-lab checkpoint (no format = ddpm-lab in its metadata)")
        if int(meta.get("format_version", "0")) > FORMAT_VERSION:
            raise ValueError(f"{path}: format version {meta['format_version']} is newer than this reader")
        self.path = path
        self.meta = meta
        self.arch, self.net = arch_of(meta)
        self.scheduler = json.loads(meta["scheduler"])
        self.train = json.loads(meta["train"]) if "train" in meta else {}
        self.train.setdefault("decay_steps", 0)
        self.train.setdefault("final_lr", 0.1)
        self.step = int(meta["step"])
        self.adam_step = int(meta.get("adam_step", "0"))
        self.seed = int(meta.get("seed", self.train.get("seed", "0")))
        self.dataset = meta.get("dataset", "digits")
        self.groups = {}
        for prefix in ("ema.", "model.", "adam_m.", "adam_v."):
            g = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            if g:
                self.groups[prefix[:-1]] = g

    def has(self, group):
        return group in self.groups

    def state_dict(self, group):
        """A group as a state dict of float32 tensors."""
        return {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in self.groups[group].items()}

    def model(self, group=None):
        """The network with a group's weights (default: ema if present, else model)."""
        group = group or ("ema" if self.has("ema") else "model")
        m = build(self.arch, self.net).float()
        own = m.state_dict()
        sd = self.state_dict(group)
        if set(sd) != set(own):
            raise ValueError(f"{self.path}: the {group}.* tensors do not match the {self.arch} config: "
                             f"missing {sorted(set(own) - set(sd))[:4]}, extra {sorted(set(sd) - set(own))[:4]}")
        m.load_state_dict(sd)
        return m


def load(path):
    tensors, meta = st_io.load(path)
    return Checkpoint(tensors, meta, path)


def save(path, *, arch, net, scheduler, train, dataset, step, seed, groups, adam_step=None,
         seconds=None, created_by="ddpm-lab python/ddpm_torch"):
    """Writes groups {"ema": state_dict, "model": ..., "adam_m": ..., "adam_v": ...}
    (any subset holding ema or model; adam_m and adam_v together) atomically.
    Tensors go in the network's parameter order, as C writes them."""
    if not ("ema" in groups or "model" in groups):
        raise ValueError("a checkpoint needs ema or model weights")
    if ("adam_m" in groups) != ("adam_v" in groups):
        raise ValueError("adam_m and adam_v go together")
    order = list(build(arch, net).state_dict().keys())
    tensors = {}
    for g in ("ema", "model", "adam_m", "adam_v"):
        if g not in groups:
            continue
        sd = groups[g]
        for name in order:
            tensors[f"{g}.{name}"] = sd[name].detach().float().cpu().numpy()
    t = {k: train[k] for k in TRAIN_KEYS}
    if float(train.get("min_snr_gamma", 0) or 0) > 0:
        t["min_snr_gamma"] = float(train["min_snr_gamma"])
    if float(train.get("ema_warmup", 10.0)) != 10.0:
        t["ema_warmup"] = float(train["ema_warmup"])
    if float(train.get("t_logit_std", 0) or 0) > 0:
        t["t_logit_mean"] = float(train["t_logit_mean"])
        t["t_logit_std"] = float(train["t_logit_std"])
    t["seed"] = str(int(seed))
    meta = {"format": "ddpm-lab", "format_version": str(FORMAT_VERSION), "created_by": created_by,
            "arch": arch, arch: json.dumps(net, separators=(",", ":")),
            "scheduler": json.dumps(scheduler, separators=(",", ":")),
            "train": json.dumps(t, separators=(",", ":")), "dataset": dataset,
            "step": str(int(step)), "seed": str(int(seed))}
    if "adam_m" in groups:
        meta["adam_step"] = str(int(adam_step))
    if seconds is not None and seconds > 0:
        meta["seconds"] = "%.3f" % seconds
    st_io.save(path, tensors, meta, dtype="F32")
