"""The book's run-time environment: mode, seeds, devices, and the numpy shim for MXNet.

MXNet 1.9.1 and gluonnlp 0.10 were written for numpy 1.x. They run on numpy 2 once numpy
gets back the names they read at import time, which numpy 1.24 and 2.0 removed. Importing
this module puts those names back (``restore_numpy_names``), so ``import utils.env`` must
come before ``import mxnet``. Nothing that numpy still has is touched (``np.bool`` is
numpy 2's own boolean type; overwriting it breaks ``numpy.ma``).
"""
import ctypes
import importlib.util
import io
import os
import random
import sys
from pathlib import Path

import numpy as np
import tqdm.std

MODES = ("smoke", "full")
LANGS = ("ko", "en")


def _removed_financial_function(name):
    def removed(*args, **kwargs):
        raise NotImplementedError(f"numpy.{name} was removed in numpy 1.20; use the package "
                                  f"numpy-financial (numpy_financial.{name}) instead.")
    removed.__name__ = name
    return removed


def _numpy_1_names():
    """What MXNet, gluonnlp and d2l read from numpy 1.x, mapped to numpy 2's equivalents."""
    names = {  # builtin aliases (removed in 1.24)
        "bool": bool, "int": int, "float": float, "object": object, "complex": complex, "str": str,
        # constants (removed in 2.0)
        "PZERO": 0.0, "NZERO": -0.0, "PINF": np.inf, "NINF": -np.inf, "Inf": np.inf,
        "Infinity": np.inf, "infty": np.inf, "NaN": np.nan, "NAN": np.nan,
        # type aliases (removed in 2.0)
        "float_": np.float64, "complex_": np.complex128, "cfloat": np.complex128,
        "singlecomplex": np.complex64, "longfloat": np.longdouble, "longcomplex": np.clongdouble,
        "clongfloat": np.clongdouble, "unicode_": np.str_, "string_": np.bytes_,
        "int0": np.intp, "uint0": np.uintp, "bool8": np.bool_, "object0": np.object_,
        "str0": np.str_, "bytes0": np.bytes_, "void0": np.void,
        # functions (removed in 2.0 and 2.4)
        "alltrue": np.all, "sometrue": np.any, "product": np.prod, "cumproduct": np.cumprod,
        "round_": np.round, "msort": lambda a: np.sort(a, axis=0),
        "asfarray": lambda a, dtype=np.float64: np.asarray(
            a, dtype=dtype if np.issubdtype(dtype, np.inexact) else np.float64),
        "in1d": lambda ar1, ar2, assume_unique=False, invert=False: np.isin(
            np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert),
        "trapz": getattr(np, "trapezoid", None),
    }
    # mxnet/numpy/fallback.py only copies these (moved to numpy-financial in numpy 1.20)
    for name in ("fv", "ipmt", "irr", "mirr", "nper", "npv", "pmt", "ppmt", "pv", "rate"):
        names[name] = _removed_financial_function(name)
    return names


def restore_numpy_names():
    """Give numpy back the names MXNet 1.9.1 reads at import time, where numpy lacks them.

    Also print numpy scalars as numpy 1.x did (``1.0``, not ``np.float64(1.0)``): MXNet passes
    operator parameters to its C++ core as text, e.g. an optimizer's learning rates as
    ``str(list)``, and fails to parse numpy 2's form.
    """
    for name, value in _numpy_1_names().items():
        if name not in np.__dict__ and value is not None:
            setattr(np, name, value)
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        np.set_printoptions(legacy="1.25")


restore_numpy_names()

# MXNet's GPU build (mxnet-cu117) and the CUDA 11 libraries it links against (libmxnet.so's
# NEEDED entries), as PyPI's nvidia-*-cu11 wheels, live in a folder of their own, never in
# site-packages: there they would overwrite torch's CUDA 12 files of the same name (libnccl.so.2,
# libnvToolsExt.so.1, libcurand.so.10, libcusolver.so.11), and the CPU build stays installed as
# the fallback. utils.colab fills it: MXNET_GPU_DIR/python (mxnet-cu117), MXNET_GPU_DIR/cuda11.
MXNET_GPU_DIR = Path(os.environ.get("BOOK_MXNET_GPU") or Path.home() / ".cache" / "bert-sentiment-book" / "mxnet-cu117")
# The libraries MXNet uses; not the BLAS/FFTW interposers (libnvblas, libcufftw), which, loaded
# globally, would take over numpy's BLAS calls.
CUDA11_LIBRARIES = ("libcudart.", "libnvrtc", "libnvToolsExt.", "libcublas.", "libcublasLt.",
                    "libcufft.", "libcurand.", "libcusparse.", "libcusolver.", "libcudnn",
                    "libnccl.")


def load_globally(paths):
    """Load shared libraries so that later ones (and libmxnet.so) find their symbols; return
    the file names loaded. A library whose dependencies are not loaded yet fails; it is tried
    again after the others, until a round loads nothing new.
    """
    pending, loaded = [str(p) for p in paths], []
    while pending:
        failed = []
        for path in pending:
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                loaded.append(os.path.basename(path))
            except OSError:
                failed.append(path)
        if len(failed) == len(pending):
            break
        pending = failed
    return loaded


def use_mxnet_gpu_build(folder=MXNET_GPU_DIR):
    """If ``folder`` holds MXNet's GPU build, make ``import mxnet`` take it: load its CUDA 11
    libraries and put it first on sys.path. Returns the loaded file names ([] without it)."""
    folder = Path(folder)
    if not (folder / "python" / "mxnet").is_dir():
        return []
    libraries = sorted(p for p in (folder / "cuda11").glob("nvidia/*/lib/*.so*")
                       if p.name.startswith(CUDA11_LIBRARIES))
    loaded = load_globally(libraries)
    if str(folder / "python") not in sys.path:
        sys.path.insert(0, str(folder / "python"))
    return loaded


if "mxnet" not in sys.modules:
    use_mxnet_gpu_build()


def book_mode():
    """'smoke' (bundled samples, tiny models) or 'full' (real data and weights), from BOOK_MODE."""
    mode = os.environ.get("BOOK_MODE", "full").strip().lower() or "full"
    if mode not in MODES:
        raise ValueError(f"BOOK_MODE={mode!r} is not a mode of this book. "
                         f"Set it to 'smoke' or 'full', e.g. os.environ['BOOK_MODE'] = 'smoke'.")
    return mode


def book_lang():
    """'ko' or 'en': the language of the edition or notebook (BOOK_LANG, set by the build and by
    every notebook's setup cell). Plots and printed messages follow it; default English."""
    lang = os.environ.get("BOOK_LANG", "en").strip().lower() or "en"
    if lang not in LANGS:
        raise ValueError(f"BOOK_LANG={lang!r} is not a language of this book. "
                         f"Set it to 'ko' or 'en', e.g. os.environ['BOOK_LANG'] = 'ko'.")
    return lang


def in_book_lang(ko, en):
    """The Korean or the English text, whichever the book's language is."""
    return ko if book_lang() == "ko" else en


def announce_mode():
    """Print which mode this run uses (the first output of every chapter) and return it."""
    mode = book_mode()
    if mode == "smoke":
        print(in_book_lang("스모크 모드: 번들 샘플 데이터와 작은 무작위 모델로 빠르게 실행합니다.\n"
                           "여기 나오는 수치는 결과가 아닙니다.",
                           "SMOKE mode: bundled sample data and a tiny random model, for a quick run.\n"
                           "Numbers below are not results."))
    else:
        print(in_book_lang("풀 모드: 실제 데이터와 사전 학습된 가중치를 사용합니다 (GPU 권장).",
                           "FULL mode: real data and pretrained weights (a GPU is recommended)."))
    return mode


def not_a_result():
    """The mark printed after a number in smoke mode ('' in full mode): smoke numbers are not results."""
    if book_mode() != "smoke":
        return ""
    return in_book_lang("  (스모크 모드: 결과가 아님)", "  (smoke: not a result)")


def static_page():
    """True while the book's build runs a notebook (BOOK_PROGRESS=text): its outputs become a static
    web page, where a widget would need scripts from a CDN and could not respond anyway."""
    return os.environ.get("BOOK_PROGRESS") == "text"


def quiet_rich_on_static_pages():
    """On a static page, progress bars drawn with rich (NNCF's, in chapter 60) print their final state as
    text instead of showing a live Jupyter widget; True where that took effect."""
    if not (static_page() and _installed("rich")):
        return False
    import rich
    rich.reconfigure(force_jupyter=False, force_terminal=False, color_system=None, width=70)   # no redraws, no colours
    return True


def progress(iterable=None, **options):
    """A tqdm progress bar: a widget in Jupyter and Colab, plain text in a terminal.

    On a static page (``static_page()``, the book's build) each bar shows once, finished, as a
    line of text; a bar with ``leave=False``, which a terminal erases when it is done, shows nothing.
    """
    if static_page():
        if not options.get("leave", True):
            options["disable"] = True
        return _FinishedBar(iterable, **options)
    from tqdm.auto import tqdm
    return tqdm(iterable, **options)


class _FinishedBar(tqdm.std.tqdm):
    """A text bar that draws nothing while it runs and prints its final state as one line."""

    def __init__(self, *args, **options):
        super().__init__(*args, **dict(options, file=io.StringIO(), mininterval=float("inf"),
                                       ncols=80, ascii=False))

    def close(self):
        if not self.disable:
            print(str(self))
        super().close()


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


def one_line(error, limit=160):
    """``TypeName: message`` of ``error`` on one line, cut to ``limit`` characters, for our own messages."""
    return f"{type(error).__name__}: {' '.join(str(error).split())[:limit]}"


def model_download_failed(model_id, error):
    """The error for a pretrained model full mode could not download: the model id, the cache
    folder it would be in, and how to put it there by hand (both frameworks use it)."""
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE) / f"models--{model_id.replace('/', '--')}"
    return ConnectionError(
        f"Could not download the pretrained model {model_id} from Hugging Face "
        f"({one_line(error)}). Without internet here: on a machine with internet "
        f"run `hf download {model_id}`, copy the folder it fills (models--{model_id.replace('/', '--')} in "
        f"its Hugging Face cache) to {folder}, and set HF_HUB_OFFLINE=1. Or set HF_ENDPOINT to a reachable "
        f"mirror, or run in smoke mode (BOOK_MODE=smoke), which downloads nothing.")


quiet_rich_on_static_pages()   # the book's build: rich's bars as a line of text, as ``progress`` does with tqdm's
