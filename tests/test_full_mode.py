"""The full-mode rehearsal: the real download, cache and loading code against stand-ins.

fake_sources serves, on 127.0.0.1, fabricated files in the real formats (NSMC, aclImdb,
korean-hate-speech, tiny bert-base-uncased and KoBERT checkpoints laid out as on the
Hugging Face hub). Full-mode processes reach it through the documented overrides only,
BOOK_SOURCES (utils/data.py) and HF_ENDPOINT (huggingface_hub), and run the chapters'
paths end to end: download, checksum, cache, pretrained weights, conversion for Gluon,
training, evaluation, prediction. The request log then pins the URLs, file names and
loading order a reader's run depends on. What it cannot check: that the real hosts still
serve these files.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from fake_sources import DATA_PATHS, NSMC_ROWS, full_mode  # noqa: F401  (full_mode: a fixture)
from utils import data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, env, timeout=240):
    """Run ``code`` in a fresh Python; return the JSON object its last output line prints."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"full-mode run failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def data_requests(server, since):
    """The requests for data files since the ``since``-th request."""
    return [r for r in server.requests[since:] if r.split(" ", 1)[1] in DATA_PATHS.values()]


def first_requests(server, since, repo):
    """The files of ``repo`` in the order they were first asked for, and the ones downloaded,
    since the ``since``-th request."""
    asked, got = [], []
    for request in server.hub_requests(since=since):
        verb, name, file = request.split(" ")
        if name == repo and file not in asked:
            asked.append(file)
        if name == repo and verb == "GET":
            got.append(file)
    return asked, got


def assert_nothing_else_asked(server, since):
    """Every request went to a data path, the hub's file paths or its API: e.g. no model zoo."""
    others = [r for r in server.requests[since:]
              if r.split(" ", 1)[1] not in DATA_PATHS.values() and " /api/" not in r
              and "/resolve/" not in r]
    assert others == []


PYTORCH_RUN = """
    import json
    from utils import data, pytorch as ut
    from utils.finetune import main

    train, test = data.load_nsmc("train"), data.load_nsmc("test")
    folder = data.cache_dir() / "nsmc"
    record = main(["--train", str(folder / "ratings_train.txt"), "--valid", str(folder / "ratings_test.txt"),
                   "--text-column", "document", "--model-name", "skt/kobert-base-v1", "--epochs", "1",
                   "--batch-size", "32", "--max-length", "32", "--lr", "1e-3", "--save", "{save}"])
    model, tokenizer = ut.load_classifier("{save}")
    korean = ut.predict_sentiment(model, tokenizer, ["정말 재밌어요", "시간 아까움"], label_names=("부정", "긍정"))
    imdb = data.load_imdb("test")
    bert, en_tokenizer = ut.load_bert("en")
    english = ut.predict_sentiment(ut.BERTClassifier(bert), en_tokenizer, list(imdb["text"][:3]))
    print(json.dumps({{"rows": [len(train), len(test), len(imdb)], "mode": record["mode"],
                      "accuracy": record["best_valid_accuracy"], "tokenizer": type(tokenizer).__name__,
                      "predictions": [p.label for p in korean + english]}}))
"""


def test_pytorch_full_mode_downloads_fine_tunes_and_predicts(full_mode, tmp_path):
    server, start = full_mode.server, len(full_mode.server.requests)
    result = run_python(PYTORCH_RUN.format(save=tmp_path / "model"), full_mode.env(tmp_path / "cache"))
    assert result["mode"] == "full" and 0 <= result["accuracy"] <= 1
    assert result["rows"][:2] == [NSMC_ROWS["train"], NSMC_ROWS["test"]]  # the served files, not the sample
    assert result["tokenizer"] == "KoBertTokenizer" and len(result["predictions"]) == 5
    assert data_requests(server, start) == [f"GET {DATA_PATHS[name]}" for name in ("nsmc-train", "nsmc-test", "imdb")]
    _, got = first_requests(server, start, "skt/kobert-base-v1")
    assert set(got) == {"config.json", "pytorch_model.bin", "spiece.model"}
    _, got = first_requests(server, start, "bert-base-uncased")
    assert {"config.json", "vocab.txt", "model.safetensors"} <= set(got)
    assert_nothing_else_asked(server, start)


GLUON_RUN = """
    import json
    from utils import data, gluon as G   # utils first: it readies numpy for MXNet
    import gluonnlp as nlp
    import mxnet as mx

    ctx = mx.cpu()
    train, test = data.load_nsmc("train"), data.load_nsmc("test")
    bert, tokenizer = G.load_bert("ko", ctx=ctx)
    transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=32, pad=False, pair=False)
    pad_id = tokenizer.vocab[tokenizer.vocab.padding_token]

    def loader(frame, shuffle):
        samples = [(*transform((text,)), label) for text, label in zip(frame["text"], frame["label"])]
        return G.make_loader(samples, 32, pad_id, shuffle=shuffle)

    net = G.BERTClassifier(bert)
    history = G.train_loop(net, loader(train, True), loader(test, False), epochs=1, lr=1e-3, ctx=ctx)
    result = G.evaluate(net, loader(test, False), ctx=ctx)
    korean = G.predict_sentiment(net, tokenizer, ["정말 재밌어요", "시간 아까움"], label_names=("부정", "긍정"),
                                 max_len=32, ctx=ctx)
    en_bert, en_tokenizer = G.load_bert("en", ctx=ctx)
    print(json.dumps({"n": result["n"], "accuracy": result["accuracy"], "vocab": len(tokenizer.vocab),
                      "predictions": [p.label for p in korean], "en_units": G.bert_config(en_bert)["units"]}))
"""


SECOND_GLUON_RUN = """
    from utils import data, gluon as G

    data.load_nsmc("train"), data.load_nsmc("test"), G.load_bert("ko")
    print("{}")
"""


def test_gluon_full_mode_converts_the_hub_checkpoints_first(full_mode, tmp_path):
    server, start = full_mode.server, len(full_mode.server.requests)
    env = full_mode.env(tmp_path / "cache")
    result = run_python(GLUON_RUN, env)
    assert result["n"] == NSMC_ROWS["test"] and result["vocab"] == 800 and result["en_units"] == 32
    assert set(result["predictions"]) <= {"부정", "긍정"}
    # Hugging Face only (the gluonnlp model zoo, were it asked, would show up in the log);
    # the vocabulary and config.json, then the weights: model.safetensors, else pytorch_model.bin
    asked, got = first_requests(server, start, "skt/kobert-base-v1")
    assert sorted(asked[:2]) == ["config.json", "spiece.model"]
    assert asked[2:] == ["model.safetensors", "pytorch_model.bin"]
    assert "model.safetensors" not in got   # KoBERT's repository has none: a 404, then the .bin
    asked, got = first_requests(server, start, "bert-base-uncased")
    assert sorted(asked[:2]) == ["config.json", "vocab.txt"] and asked[2:] == ["model.safetensors"]
    assert set(got) == set(asked)
    assert_nothing_else_asked(server, start)

    again = len(server.requests)   # a second run finds everything in its caches
    run_python(SECOND_GLUON_RUN, env)
    assert data_requests(server, again) == [] and server.hub_requests(method="GET", since=again) == []


def test_data_downloads_once_then_comes_from_the_cache(full_mode, tmp_path, monkeypatch):
    server = full_mode.server
    for name, value in full_mode.env(tmp_path).items():
        monkeypatch.setenv(name, value)
    start = len(server.requests)
    loads = [lambda: data.load_nsmc("train"), lambda: data.load_nsmc("test"), lambda: data.load_imdb("train"),
             lambda: data.load_korean_hate_speech("train"), lambda: data.load_korean_hate_speech("dev")]
    first = [len(load()) for load in loads]
    assert server.requests[start:] == [f"GET {path}" for path in DATA_PATHS.values()]
    assert [len(load()) for load in loads] == first
    assert len(server.requests) == start + len(DATA_PATHS)  # nothing new: the second round read the cache
    assert (data.cache_dir() / "imdb" / "aclImdb" / data.IMDB_EXTRACTED).is_file()


def test_a_corrupted_file_under_a_pinned_checksum_is_rejected(full_mode, tmp_path, monkeypatch):
    server = full_mode.server
    good = server.files[DATA_PATHS["nsmc-train"]]
    server.files["/corrupted/ratings_train.txt"] = good[:-20] + b"9\t0\n"  # right format, wrong bytes
    sources = json.loads(full_mode.sources_file.read_text(encoding="utf-8"))
    sources["nsmc-train"]["url"] = server.url + "/corrupted/ratings_train.txt"
    (tmp_path / "sources.json").write_text(json.dumps(sources), encoding="utf-8")
    for name, value in full_mode.env(tmp_path, BOOK_SOURCES=str(tmp_path / "sources.json")).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="checksum mismatch: expected sha256 .*The bad file was removed"):
        data.load_nsmc("train")
    assert sorted(p.name for p in (data.cache_dir() / "nsmc").iterdir()) == []


# Every Korean notebook that downloads data or a pretrained model, run whole in full mode, as a
# reader runs it: the chapter's own full-mode settings, here on the fabricated files.
FULL_MODE_NOTEBOOKS = ["00_setup", "10_input_representation", "21_imdb_pytorch", "21_imdb_gluon",
                       "22_finetune_command", "31_nsmc_pytorch", "31_nsmc_gluon",
                       "32_kobert_vs_multilingual", "40_hate_speech"]
RUN_NOTEBOOK = """
import json, sys, nbclient, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=600, resources={"metadata": {"path": sys.argv[2]}}).execute()
texts = ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
print(json.dumps({"first": next(t for t in texts if t), "all": "\\n".join(texts)}))
"""


@pytest.mark.parametrize("name", FULL_MODE_NOTEBOOKS)
def test_chapter_notebook_runs_end_to_end_in_full_mode(full_mode, tmp_path, name):
    server, start = full_mode.server, len(full_mode.server.requests)
    workdir = tmp_path / "work"  # what a chapter writes (checkpoints, runs/) stays out of the repository;
    workdir.mkdir()              # the setup cell finds utils/ here as in a clone
    (workdir / "utils").symlink_to(os.path.join(ROOT, "utils"))
    result = subprocess.run([sys.executable, "-c", RUN_NOTEBOOK, os.path.join(ROOT, "notebooks", "ko", f"{name}.ipynb"),
                             str(workdir)], env=full_mode.env(tmp_path / "cache"), cwd=workdir,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{name} failed in full mode:\n{result.stderr[-4000:]}"
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    assert outputs["first"].startswith("풀 모드"), outputs["first"][:200]  # a Korean notebook speaks Korean
    for smoke_mark in ("SMOKE", "스모크", "smoke: not a result", "smoke estimate"):
        assert smoke_mark not in outputs["all"], smoke_mark
    assert server.requests[start:], "a full-mode chapter downloaded nothing"
    assert_nothing_else_asked(server, start)
