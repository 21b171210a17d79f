import random

import numpy as np
import pytest

from utils import env


def test_numpy_names_restored_so_mxnet_imports_on_numpy_2():
    for name in ("int", "float", "object", "complex", "str", "PZERO", "NINF", "NaN", "Inf", "float_",
                 "complex_", "unicode_", "string_", "alltrue", "sometrue", "product", "cumproduct",
                 "round_", "msort", "asfarray", "mirr"):
        assert name in np.__dict__, name
    assert np.bool is np.bool_ if np.__version__ >= "2" else True  # numpy 2's own np.bool untouched
    assert np.alltrue([True, True]) and not np.sometrue([False]) and np.product([2, 3]) == 6
    assert np.msort(np.array([[3, 1], [1, 2]])).tolist() == [[1, 1], [3, 2]]
    assert np.asfarray([1, 2]).dtype == np.float64 and np.NINF == -np.inf
    with pytest.raises(NotImplementedError, match="numpy_financial.mirr"):
        np.mirr([1, 2], 0.1, 0.1)
    import mxnet as mx
    assert mx.nd.ones((2, 3)).shape == (2, 3)


def test_mxnet_optimizer_takes_numpy_scalar_learning_rates():
    # MXNet hands learning rates to C++ as str(list); numpy 2 would write "np.float64(0.1)"
    import gluonnlp  # noqa: F401  registers "bertadam", the optimizer of utils.gluon.train_loop
    import mxnet as mx
    from mxnet import autograd, gluon
    net = gluon.nn.Dense(1)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "bertadam", {"learning_rate": 0.1})
    trainer.set_learning_rate(np.float64(0.1) * np.float64(0.5))
    x = mx.nd.ones((4, 3))
    with autograd.record():
        loss = ((net(x) - 1) ** 2).mean()
    loss.backward()
    trainer.step(4)
    assert repr(np.float64(0.5)) == "0.5"


def test_book_mode(monkeypatch):
    monkeypatch.delenv("BOOK_MODE", raising=False)
    assert env.book_mode() == "full"
    monkeypatch.setenv("BOOK_MODE", " Smoke ")
    assert env.book_mode() == "smoke"
    monkeypatch.setenv("BOOK_MODE", "quick")
    with pytest.raises(ValueError, match="'smoke' or 'full'"):
        env.book_mode()


def test_announce_mode_says_smoke_numbers_are_not_results_in_the_book_language(capsys, monkeypatch):
    monkeypatch.setenv("BOOK_LANG", "en")
    assert env.announce_mode() == "smoke"
    out = capsys.readouterr().out
    assert out.startswith("SMOKE") and "not results" in out and "결과" not in out
    assert env.not_a_result() == "  (smoke: not a result)"
    monkeypatch.setenv("BOOK_LANG", "ko")
    env.announce_mode()
    out = capsys.readouterr().out
    assert out.startswith("스모크 모드") and "결과가 아닙니다" in out and "SMOKE" not in out
    assert "결과가 아님" in env.not_a_result()
    monkeypatch.setenv("BOOK_MODE", "full")
    assert env.not_a_result() == ""


def test_book_lang_defaults_to_english_and_refuses_other_languages(monkeypatch):
    monkeypatch.delenv("BOOK_LANG", raising=False)
    assert env.book_lang() == "en" and env.in_book_lang("한", "en") == "en"
    monkeypatch.setenv("BOOK_LANG", " KO ")
    assert env.book_lang() == "ko" and env.in_book_lang("한", "en") == "한"
    monkeypatch.setenv("BOOK_LANG", "ja")
    with pytest.raises(ValueError, match="'ko' or 'en'"):
        env.book_lang()


def test_progress_is_a_finished_text_bar_on_stdout_in_the_book_build(monkeypatch, capsys):
    monkeypatch.setenv("BOOK_PROGRESS", "text")
    for _ in env.progress(range(4), desc="download"):
        pass
    out = capsys.readouterr().out
    assert out.startswith("download: 100%|███") and "4/4" in out and out.count("\n") == 1  # one finished line
    for _ in env.progress(range(4), desc="epoch 1/2", leave=False):  # a terminal erases it when done
        pass
    assert capsys.readouterr().out == ""
    monkeypatch.delenv("BOOK_PROGRESS")
    import tqdm.auto
    assert isinstance(env.progress(range(1), disable=True), tqdm.auto.tqdm)


@pytest.mark.torch   # rich comes with the "pytorch" stack (NNCF's progress bars, chapter 60)
def test_rich_bars_are_text_not_widgets_in_the_book_build(monkeypatch):
    import rich

    rich.reconfigure(force_jupyter=True)                  # as in a notebook's kernel
    try:
        monkeypatch.delenv("BOOK_PROGRESS", raising=False)
        assert not env.quiet_rich_on_static_pages() and rich.get_console().is_jupyter   # Jupyter: the widget
        monkeypatch.setenv("BOOK_PROGRESS", "text")
        assert env.quiet_rich_on_static_pages() and not rich.get_console().is_jupyter   # the build: text
    finally:
        rich.reconfigure()


@pytest.mark.torch
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


@pytest.mark.torch
def test_devices_fall_back_to_cpu_without_gpu():
    import mxnet as mx
    import torch
    assert env.torch_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert env.mx_context() == (mx.gpu(0) if mx.context.num_gpus() else mx.cpu())
