import random

import numpy as np
import pytest

from utils import env


def test_numpy_aliases_restored_so_mxnet_imports():
    for name in ("bool", "int", "float", "object", "complex", "str"):
        assert hasattr(np, name)
    import mxnet as mx
    assert mx.nd.ones((2, 3)).shape == (2, 3)


def test_book_mode(monkeypatch):
    monkeypatch.delenv("BOOK_MODE", raising=False)
    assert env.book_mode() == "full"
    monkeypatch.setenv("BOOK_MODE", " Smoke ")
    assert env.book_mode() == "smoke"
    monkeypatch.setenv("BOOK_MODE", "quick")
    with pytest.raises(ValueError, match="'smoke' or 'full'"):
        env.book_mode()


def test_announce_mode_says_smoke_numbers_are_not_results(capsys):
    assert env.announce_mode() == "smoke"
    out = capsys.readouterr().out
    assert out.startswith("SMOKE") and "not results" in out and "결과가 아닙니다" in out


def test_set_seed_makes_every_framework_repeatable():
    import mxnet as mx
    import torch

    def draw():
        return (random.random(), np.random.rand(), torch.rand(1).item(),
                mx.nd.random.uniform(shape=(1,)).asscalar())

    env.set_seed(7)
    first = draw()
    env.set_seed(7)
    assert draw() == first
    env.set_seed(8)
    assert draw() != first


def test_devices_fall_back_to_cpu_without_gpu():
    import mxnet as mx
    import torch
    assert env.torch_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert env.mx_context() == (mx.gpu(0) if mx.context.num_gpus() else mx.cpu())
