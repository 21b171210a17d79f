"""What a notebook's setup cell runs on Colab, after it has cloned the repository.

``install(stacks)`` installs what the chapter uses and nothing else, keeps Colab's own torch,
transformers and numpy (so no restart is needed), and says what it is doing:

- always ``requirements.txt`` (pandas, matplotlib, a Korean font, tokenizers, ...; most are there);
- "pytorch": Colab's torch (installed only if the runtime has none), then ``requirements-pytorch.txt``
  (Captum), which keeps that torch;
- "gluon": ``requirements-gluon.txt`` with ``--no-deps`` (MXNet, gluonnlp, d2l). With an NVIDIA
  GPU it then tries MXNet's CUDA 11 build (``requirements-gluon-gpu.txt``: mxnet-cu117 and PyPI's
  CUDA 11 runtime wheels) in a folder of its own, which ``utils.env`` puts before the CPU build
  at ``import mxnet``. It checks it with a small operation on ``mx.gpu(0)`` and, if any step
  fails, removes that folder (the CPU build takes over) and says so in one line.

Run it by hand with ``python -m utils.colab gluon pytorch``.
"""
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("pytorch", "gluon")

MESSAGES = {
    "ko": {
        "common": "공통 패키지 설치 (requirements.txt, Colab에 있는 것은 그대로 둡니다)",
        "torch": "PyTorch가 없어 설치합니다 (수 분 걸립니다)",
        "pytorch": "PyTorch 장의 추가 패키지 설치 (requirements-pytorch.txt: Captum, OpenVINO, NNCF; torch는 그대로)",
        "gluon": "MXNet 1.9.1, gluonnlp 0.10, d2l 설치 (--no-deps, numpy 2 그대로; gluonnlp 빌드에 1분쯤)",
        "gpu": "GPU가 있으니 MXNet의 CUDA 11 빌드(mxnet-cu117)와 CUDA 11 런타임을 설치합니다 (약 2.5 GB)",
        "gpu_ok": "MXNet이 GPU를 씁니다: {detail}",
        "gpu_failed": "MXNet GPU 빌드를 쓸 수 없어 CPU 빌드로 돌아갑니다 ({detail}). 문제 해결 장의 'MXNet과 GPU'를 보세요.",
        "no_gpu": "GPU가 없어 MXNet CPU 빌드를 씁니다.",
        "done": "설치를 마쳤습니다 ({seconds:.0f}초). 런타임을 다시 시작할 필요는 없습니다.",
        "restart": "numpy 버전이 바뀌었습니다 ({before} -> {after}). 런타임 > 세션 다시 시작을 누른 뒤 이 셀부터 다시 실행하세요.",
    },
    "en": {
        "common": "Installing the common packages (requirements.txt; what Colab has stays as it is)",
        "torch": "No PyTorch here: installing it (a few minutes)",
        "pytorch": "Installing the PyTorch chapters' extras (requirements-pytorch.txt: Captum, OpenVINO, NNCF; torch stays as it is)",
        "gluon": "Installing MXNet 1.9.1, gluonnlp 0.10 and d2l (--no-deps, keeping numpy 2; gluonnlp builds in about a minute)",
        "gpu": "A GPU is here: installing MXNet's CUDA 11 build (mxnet-cu117) and the CUDA 11 runtime (about 2.5 GB)",
        "gpu_ok": "MXNet uses the GPU: {detail}",
        "gpu_failed": "MXNet's GPU build cannot run here, so the CPU build is used ({detail}). See 'MXNet and the GPU' in the troubleshooting page.",
        "no_gpu": "No GPU here: MXNet uses its CPU build.",
        "done": "Installed in {seconds:.0f} s. No runtime restart is needed.",
        "restart": "numpy changed version ({before} -> {after}). Restart the runtime (Runtime > Restart session), then run again from this cell.",
    },
}

# Run in a fresh process after installing mxnet-cu117: the import and one small GPU operation.
GPU_CHECK = ("import utils.env, mxnet as mx; "
             "x = (mx.nd.ones((2, 2), ctx=mx.gpu(0)) * 2).asnumpy(); "
             "assert x.sum() == 8, x; print(mx.context.num_gpus(), 'GPU(s), gpu(0) computes')")


def pip(*args):
    """Run pip in this Python; return (exit code, its last lines of output)."""
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--progress-bar", "off",
                           "--disable-pip-version-check"], capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, "\n".join(lines[-5:])


def pip_or_fail(*args):
    code, tail = pip(*args)
    if code:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{tail}")


def has_nvidia_gpu():
    """True when an NVIDIA GPU is visible (Colab: Runtime > Change runtime type > GPU)."""
    if shutil.which("nvidia-smi") is None:
        return False
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return listed.returncode == 0 and "GPU" in listed.stdout


def check_mxnet_gpu():
    """(True, what it saw) when a fresh Python imports mxnet and computes on gpu(0)."""
    done = subprocess.run([sys.executable, "-c", GPU_CHECK], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode == 0, (lines[-1][:200] if lines else f"exit code {done.returncode}")


def gpu_requirements():
    """requirements-gluon-gpu.txt split in two: (the mxnet-cu117 pin, the CUDA 11 wheels)."""
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements-gluon-gpu.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    return ([line for line in lines if line.startswith("mxnet")],
            [line for line in lines if not line.startswith("mxnet")])


def install_gluon(say, gpu):
    """MXNet's CPU build, gluonnlp and d2l (--no-deps); with a GPU, also MXNet's GPU build in
    a folder of its own (``utils.env.MXNET_GPU_DIR``), kept only if it computes on gpu(0)."""
    import utils.env

    say("gluon")
    pip_or_fail("install", "--no-deps", "-r", "requirements-gluon.txt")
    if not gpu:
        say("no_gpu")
        return "cpu"
    say("gpu")
    mxnet_gpu, cuda11 = gpu_requirements()
    folder = utils.env.MXNET_GPU_DIR
    shutil.rmtree(folder, ignore_errors=True)
    code, tail = pip("install", "--no-deps", "--target", str(folder / "python"), *mxnet_gpu)
    if code == 0:
        code, tail = pip("install", "--no-deps", "--target", str(folder / "cuda11"), *cuda11)
    works, detail = check_mxnet_gpu() if code == 0 else (False, tail.splitlines()[-1] if tail else "pip")
    if works:
        utils.env.use_mxnet_gpu_build(folder)  # this kernel imported utils.env before the folder existed
        say("gpu_ok", detail=detail)
        return "gpu"
    shutil.rmtree(folder, ignore_errors=True)  # the CPU build in site-packages takes over
    say("gpu_failed", detail=detail)
    return "cpu"


def install(stacks=STACKS, lang="en", gpu=None):
    """Install what a chapter with these stacks needs; return what MXNet runs on (or None)."""
    unknown = set(stacks) - set(STACKS)
    if unknown:
        raise ValueError(f"Unknown stack(s) {sorted(unknown)}: use any of {STACKS}.")
    started = time.time()
    numpy_before = importlib.metadata.version("numpy")

    def say(key, **values):
        print(f"[setup {time.time() - started:4.0f} s] " + MESSAGES[lang][key].format(**values), flush=True)

    say("common")
    pip_or_fail("install", "-r", "requirements.txt")
    if "pytorch" in stacks and importlib.util.find_spec("torch") is None:
        say("torch")
        pip_or_fail("install", "torch>=2.3")
    if "pytorch" in stacks:
        say("pytorch")
        pip_or_fail("install", "-r", "requirements-pytorch.txt")
    mxnet_on = None
    if "gluon" in stacks:
        mxnet_on = install_gluon(say, has_nvidia_gpu() if gpu is None else gpu)
    numpy_after = importlib.metadata.version("numpy")
    if "numpy" in sys.modules and numpy_after != sys.modules["numpy"].__version__:
        raise SystemExit(MESSAGES[lang]["restart"].format(before=numpy_before, after=numpy_after))
    say("done", seconds=time.time() - started)
    return mxnet_on


if __name__ == "__main__":
    install(sys.argv[1:] or STACKS)
