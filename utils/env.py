"""The book's run-time environment: mode, seeds, devices, and the numpy shim for MXNet.

Importing this module restores the numpy aliases that MXNet 1.9.1 still uses
(``np.bool``, ``np.int``, ...; removed in numpy 1.24), so ``import utils.env``
must come before ``import mxnet``.
"""
import importlib.util
import os
import random
import sys

import numpy as np

MODES = ("smoke", "full")

_NUMPY_ALIASES = {"bool": bool, "int": int, "float": float, "object": object,
                  "complex": complex, "str": str}


def restore_numpy_aliases():
    """Give numpy back the builtin-type aliases MXNet 1.9.1 refers to at import time."""
    for name, builtin in _NUMPY_ALIASES.items():
        if name not in np.__dict__:
            setattr(np, name, builtin)


restore_numpy_aliases()


def book_mode():
    """'smoke' (bundled samples, tiny models) or 'full' (real data and weights), from BOOK_MODE."""
    mode = os.environ.get("BOOK_MODE", "full").strip().lower() or "full"
    if mode not in MODES:
        raise ValueError(f"BOOK_MODE={mode!r} is not a mode of this book. "
                         f"Set it to 'smoke' or 'full', e.g. os.environ['BOOK_MODE'] = 'smoke'.")
    return mode


def announce_mode():
    """Print which mode this run uses (the first output of every chapter) and return it."""
    mode = book_mode()
    if mode == "smoke":
        print("SMOKE 모드: 번들 샘플 데이터와 작은 무작위 모델로 빠르게 실행합니다.\n"
              "           여기 나오는 수치는 결과가 아닙니다.\n"
              "SMOKE mode: bundled sample data and a tiny random model, for a quick run.\n"
              "            Numbers below are not results.")
    else:
        print("FULL 모드: 실제 데이터와 사전 학습된 가중치를 사용합니다 (GPU 권장).\n"
              "FULL mode: real data and pretrained weights (a GPU is recommended).")
    return mode


def _installed(module):
    return module in sys.modules or importlib.util.find_spec(module) is not None


def set_seed(seed=42):
    """Seed Python, numpy and every installed framework (PyTorch, MXNet) for repeatable runs."""
    random.seed(seed)
    np.random.seed(seed)
    if _installed("torch"):
        import torch
        torch.manual_seed(seed)  # also seeds every CUDA device
    if _installed("mxnet"):
        import mxnet as mx
        mx.random.seed(seed)
    return seed


def torch_device():
    """The first CUDA GPU if PyTorch sees one, else the CPU."""
    import torch
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mx_context():
    """The first GPU if MXNet sees one, else the CPU."""
    import mxnet as mx
    return mx.gpu(0) if mx.context.num_gpus() > 0 else mx.cpu()
