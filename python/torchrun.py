#!/usr/bin/env python3
"""torchrun.py: PyTorch's `torchrun`, working on Debian 12.

Debian 12's python3-torch (PyTorch 1.13) with its Python 3.11 cannot start
workers: `torchrun` fails with "AttributeError: 'NoneType' object has no
attribute 'get'".  Its Std enum is an IntFlag, and since Python 3.11
iterating a Flag yields neither the zero member (Std.NONE) nor multi-bit ones
(Std.ALL), so Std.from_str("0"), the default of --redirects and --tee, returns
None.  This script repairs that one function (Std(int) finds every member)
and then is torchrun: same flags, same behaviour.  Where `torchrun` works
(newer PyTorch, or Python 3.10), use it directly.

  python3 python/torchrun.py --standalone --nproc_per_node=2 python/train_ddp.py ...
"""
import re
import sys

from torch.distributed.elastic.multiprocessing import api as _api


def _from_str(cls, vm):
    if re.fullmatch(r"[0-3]", vm):
        return cls(int(vm))
    if re.fullmatch(r"([0-9]+:[0-3],)*[0-9]+:[0-3]", vm):
        return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm}: use a number 0..3 or a mapping such as 0:1,1:2")


_api.Std.from_str = classmethod(_from_str)

if __name__ == "__main__":
    from torch.distributed.run import main
    sys.exit(main())
