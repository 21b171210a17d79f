"""The notebooks' setup cell on a simulated Colab, and what utils.colab installs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from utils import colab

SETUP_CELL = json.loads((ROOT / "notebooks" / "en" / "11_bert_encoder_gluon.ipynb").read_text())["cells"][2]
COLAB_STUB = ("import sys, types\n"
              "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
              "import numpy  # Colab's kernel starts with numpy imported\n")


def run_setup_cell_on_colab(tmp_path, repo_url=None):
    """Run the generated setup cell as Colab would: google.colab present, /content a fresh folder,
    and the repository URL answered by a throwaway clone of this checkout (its committed state)."""
    source = "".join(SETUP_CELL["source"]).replace('Path("/content")', f"Path({str(tmp_path)!r})")
    url = source.split('REPO_URL, BRANCH, STACKS = "')[1].split('"')[0]
    if repo_url:
        source = source.replace(url, repo_url)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{ROOT}"]\n\tinsteadOf = {url}\n')
    probe = COLAB_STUB + source + "\nimport utils.env, mxnet, d2l\nprint('ROOT', ROOT)\n"
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(gitconfig)}
    return subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900), url


def test_setup_cell_on_colab_clones_installs_and_needs_no_restart(tmp_path):
    result, url = run_setup_cell_on_colab(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    clone = tmp_path / url.rstrip("/").split("/")[-1]
    assert f"ROOT {clone}" in result.stdout  # the chapter imports from the fresh clone
    assert "MXNet 1.9.1, gluonnlp 0.10 and d2l" in result.stdout and "No runtime restart" in result.stdout
    assert (clone / "utils" / "colab.py").is_file()


def test_a_failed_clone_says_what_to_change(tmp_path):
    result, _ = run_setup_cell_on_colab(tmp_path, repo_url="https://github.com/nobody/not-a-fork")
    assert result.returncode != 0
    assert "Could not clone branch main of https://github.com/nobody/not-a-fork" in result.stderr
    assert "REPO_URL" in result.stderr and "repository.url in _config.yml" in result.stderr


@pytest.fixture
def fake_pip(monkeypatch, tmp_path):
    """Record pip's commands instead of running them (an install with --target makes that folder),
    with MXNet's GPU build going to a scratch folder."""
    import utils.env
    calls = []

    def pip(*args):
        calls.append(" ".join(args).replace(str(tmp_path), "GPU_DIR"))
        if "--target" in args:
            (Path(args[args.index("--target") + 1]) / "installed").mkdir(parents=True)
        return 0, "Successfully installed"
    monkeypatch.setattr(colab, "pip", pip)
    monkeypatch.setattr(utils.env, "MXNET_GPU_DIR", tmp_path / "mxnet-cu117")
    return calls


def test_gpu_build_goes_to_its_own_folder_and_is_kept_when_it_computes(fake_pip, monkeypatch, capsys, tmp_path):
    import utils.env
    used = []
    monkeypatch.setattr(utils.env, "use_mxnet_gpu_build", used.append)
    monkeypatch.setattr(colab, "check_mxnet_gpu", lambda: (True, "1 GPU(s), gpu(0) computes"))
    assert colab.install(["gluon"], gpu=True) == "gpu"
    assert fake_pip[-2] == "install --no-deps --target GPU_DIR/mxnet-cu117/python mxnet-cu117==1.9.1"
    assert fake_pip[-1].startswith("install --no-deps --target GPU_DIR/mxnet-cu117/cuda11 nvidia-cuda-runtime-cu11==")
    assert not any("uninstall" in call for call in fake_pip)  # site-packages (torch's CUDA 12, the CPU build) untouched
    assert (tmp_path / "mxnet-cu117" / "python").is_dir()
    assert used == [tmp_path / "mxnet-cu117"]  # and this kernel, which imported utils.env already, uses it
    assert "MXNet uses the GPU: 1 GPU(s)" in capsys.readouterr().out


def test_gpu_build_falls_back_to_the_cpu_build_in_one_line(fake_pip, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(colab, "check_mxnet_gpu", lambda: (False, "OSError: libcuda.so.1: cannot open"))
    assert colab.install(["gluon"], gpu=True) == "cpu"
    assert not (tmp_path / "mxnet-cu117").exists()  # removed: import mxnet finds the CPU build again
    fallback = [l for l in capsys.readouterr().out.splitlines() if "CPU build is used" in l]
    assert len(fallback) == 1 and "libcuda.so.1" in fallback[0]


def test_without_a_gpu_only_the_cpu_stack_is_installed(fake_pip, capsys):
    assert colab.install(["gluon"], lang="ko", gpu=False) == "cpu"
    assert fake_pip == ["install -r requirements.txt", "install --no-deps -r requirements-gluon.txt"]
    assert "GPU가 없어" in capsys.readouterr().out


@pytest.mark.parametrize("has_torch", [True, False])
def test_colabs_torch_is_kept_and_installed_only_where_missing(fake_pip, monkeypatch, has_torch):
    find_spec = colab.importlib.util.find_spec
    monkeypatch.setattr(colab.importlib.util, "find_spec",
                        lambda name: (object() if has_torch else None) if name == "torch" else find_spec(name))
    assert colab.install(["pytorch"]) is None
    assert fake_pip == (["install -r requirements.txt"] + ([] if has_torch else ["install torch>=2.3"])
                        + ["install -r requirements-pytorch.txt"])   # after torch: pip keeps it


def test_unknown_stack_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown stack"):
        colab.install(["tensorflow"])


def test_gpu_build_folder_loads_its_cuda11_libraries_in_dependency_order(tmp_path, monkeypatch):
    """libmxnet.so needs the CUDA 11 libraries loaded first; one that needs another loads after it,
    and a BLAS interposer (libnvblas) is left alone."""
    from utils.env import use_mxnet_gpu_build

    def library(name, code, *link):
        folder = tmp_path / "cuda11" / "nvidia" / name.split(".")[0][3:] / "lib"
        folder.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{name}.c").write_text(code)
        subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{name}", "-o", folder / name,
                        tmp_path / f"{name}.c", *link], check=True)  # a soname, as every CUDA library has
        return folder
    runtime = library("libcudart.so.11.0", "int runtime_value(void) { return 41; }\n")
    library("libcublas.so.11", "int runtime_value(void);\nint blas_value(void) { return runtime_value() + 1; }\n",
            f"-L{runtime}", "-l:libcudart.so.11.0")
    library("libnvblas.so.11", "int dgemm_(void) { return 0; }\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert use_mxnet_gpu_build(tmp_path) == []  # no GPU build in the folder: nothing happens
    (tmp_path / "python" / "mxnet").mkdir(parents=True)
    assert use_mxnet_gpu_build(tmp_path) == ["libcudart.so.11.0", "libcublas.so.11"]  # cublas failed first
    assert sys.path[0] == str(tmp_path / "python")  # import mxnet takes the GPU build
