"""ddpm_torch: ddpm-lab's networks, diffusion process, datasets and checkpoint
format in PyTorch -- the one Python mirror of the C core.  Used by the parity
reference and the benchmark (tools/torch_mirror.py) and by the distributed
trainer (python/train_ddp.py).  The C tools never need it."""
