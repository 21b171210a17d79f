"""The fine-tuning command, python -m utils.finetune, in smoke mode."""
import json
import subprocess
import sys

import pytest
import torch

from utils.data import load_imdb
from utils.finetune import build_parser

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def finetune(*args, processes=1):
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.run([sys.executable, *(launcher if processes > 1 else []), "-m", "utils.finetune",
                           *map(str, args)], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetune")
    train, test = load_imdb("train"), load_imdb("test")
    with open(folder / "train.tsv", "w", encoding="utf-8") as f:
        f.write("review\tsentiment\n")
        for text, label in zip(train["text"], train["label"]):
            f.write(" ".join(text.split()) + f"\t{label}\n")  # a TSV row may hold no tab or newline
    test.rename(columns={"text": "review", "label": "sentiment"}).to_csv(folder / "valid.csv", index=False)
    return folder


def test_help_explains_every_option():
    out = finetune("--help")
    assert out.returncode == 0
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in out.stdout
        assert action.help, f"{action.option_strings} has no help text"


def test_fine_tunes_on_tsv_and_csv_and_saves_a_usable_model(files):
    out = finetune("--train", files / "train.tsv", "--valid", files / "valid.csv",
                   "--text-column", "review", "--label-column", "sentiment", "--epochs", "2",
                   "--batch-size", "16", "--accumulation-steps", "2", "--max-length", "64",
                   "--save", files / "model")
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads((files / "model" / "training.json").read_text())
    assert record["mode"] == "smoke" and record["label_names"] == ["negative", "positive"]
    assert record["history"]["epoch"] == [1, 2]
    assert (files / "model" / "history.png").stat().st_size > 10_000
    from utils.pytorch import load_classifier, predict_sentiment
    model, tokenizer = load_classifier(files / "model")
    assert predict_sentiment(model, tokenizer, "a great film").label in ("negative", "positive")


def test_fine_tunes_kobert_on_nsmc_files_as_they_are(tmp_path):
    from utils.data import SAMPLE_DIR
    from utils.pytorch import load_classifier, predict_sentiment
    from utils.tokenization import KoBertTokenizer

    nsmc = SAMPLE_DIR / "nsmc"
    out = finetune("--train", nsmc / "ratings_train.txt", "--valid", nsmc / "ratings_test.txt",
                   "--text-column", "document", "--model-name", "skt/kobert-base-v1",
                   "--epochs", "1", "--max-length", "64", "--save", tmp_path / "kobert")
    assert out.returncode == 0, out.stderr[-3000:]
    model, tokenizer = load_classifier(tmp_path / "kobert")
    assert isinstance(tokenizer, KoBertTokenizer)
    assert predict_sentiment(model, tokenizer, "ㅋㅋ 꿀잼 👍").label in ("negative", "positive")


def test_frozen_with_precomputed_features(files):
    out = finetune("--train", files / "train.tsv", "--text-column", "review", "--label-column",
                   "sentiment", "--frozen", "--precompute-features", "--head-lr", "1e-3",
                   "--epochs", "1", "--save", files / "frozen")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "valid 22" in out.stdout  # 10% of the 220 training reviews held out


@pytest.mark.parametrize("args, message", [
    (["--text-column", "text"], "has no column 'text'"),
    (["--text-column", "review", "--label-column", "sentiment", "--precompute-features"],
     "--precompute-features needs --frozen"),
])
def test_bad_arguments_get_a_clear_message(files, args, message):
    out = finetune("--train", files / "train.tsv", *args)
    assert out.returncode != 0 and message in out.stderr
    assert "Traceback" not in out.stderr


def test_torchrun_two_processes_match_one_process_with_the_same_global_batch(files):
    """DDP on the CPU (gloo): two processes with 8 texts each train like one process with 16.

    BERT's dropout is off, so the only differences left are floating-point sums taken in
    another order: the curves must agree within 1e-5. A run with another global batch
    (8) shows that the tolerance separates the two cases.
    """
    common = ["--train", files / "train.tsv", "--valid", files / "valid.csv", "--text-column", "review",
              "--label-column", "sentiment", "--epochs", "3", "--max-length", "64", "--lr", "1e-3",
              "--bert-dropout", "0", "--dropout", "0"]
    runs = {}
    for name, batch_size, processes in (("one", 16, 1), ("two", 8, 2), ("other batch", 8, 1)):
        out = finetune(*common, "--batch-size", batch_size, "--save", files / name, processes=processes)
        assert out.returncode == 0, out.stderr[-3000:]
        runs[name] = json.loads((files / name / "training.json").read_text())
    two = runs["two"]
    assert two["processes"] == 2 and two["global_batch"] == 16
    assert two["largest_weight_difference_between_processes"] == 0.0   # both ranks hold the same weights
    curves = ("train_loss", "valid_loss")
    for curve in curves:
        assert two["history"][curve] == pytest.approx(runs["one"]["history"][curve], abs=1e-5)
    assert max(abs(a - b) for curve in curves for a, b in
               zip(runs["other batch"]["history"][curve], runs["one"]["history"][curve])) > 1e-4

    from utils.pytorch import load_classifier
    one, _ = load_classifier(files / "one", device="cpu")
    two, _ = load_classifier(files / "two", device="cpu")
    for (name, a), b in zip(one.state_dict().items(), two.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-4), name


def test_precompute_features_refuses_torchrun_with_a_clear_message(files):
    out = finetune("--train", files / "train.tsv", "--text-column", "review", "--label-column", "sentiment",
                   "--frozen", "--precompute-features", processes=2)
    assert out.returncode != 0 and "--precompute-features runs in one process" in out.stderr
    assert "finetune.py\", line" not in out.stderr   # torchrun reports the exit; our code did not crash
