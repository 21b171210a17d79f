"""The fine-tuning command, python -m utils.finetune, in smoke mode."""
import json
import subprocess
import sys

import pytest

from utils.data import load_imdb
from utils.finetune import build_parser

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def finetune(*args):
    return subprocess.run([sys.executable, "-m", "utils.finetune", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


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
