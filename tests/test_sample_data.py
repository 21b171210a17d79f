"""The bundled samples: real formats, balanced, varied, and with something to learn."""
import csv
import re

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from utils.data import SAMPLE_DIR, read_imdb, read_nsmc

NSMC = SAMPLE_DIR / "nsmc"
IMDB = SAMPLE_DIR / "aclImdb"
MULTICLASS = SAMPLE_DIR / "korean-hate-speech"


def fit_and_score(train, test, analyzer, ngrams):
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams)
    model = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(train.text), train.label)
    return model.score(vectorizer.transform(test.text), test.label)


def test_nsmc_sample_format_size_balance():
    train, test = read_nsmc(NSMC / "ratings_train.txt"), read_nsmc(NSMC / "ratings_test.txt")
    assert train.attrs["dropped_empty"] >= 1  # like the real files
    everything = pd.concat([train, test])
    assert len(everything) >= 300 and len(test) >= 100
    for frame in (train, test):
        assert abs(frame.label.mean() - 0.5) < 0.05
    lengths = everything.text.str.len()
    assert lengths.min() <= 5 and 100 <= lengths.max() <= 140
    assert everything.text.is_unique
    raw = (NSMC / "ratings_train.txt").read_text(encoding="utf-8")
    assert raw.startswith("id\tdocument\tlabel\n") and '"' in raw and "ㅋㅋ" in raw


def test_nsmc_sample_is_not_templates_and_is_learnable():
    train, test = read_nsmc(NSMC / "ratings_train.txt"), read_nsmc(NSMC / "ratings_test.txt")
    words = pd.concat([train, test]).text.str.split().explode()
    assert words.nunique() > 1000
    assert fit_and_score(train, test, "char_wb", (2, 4)) > 0.7


def test_imdb_sample_layout():
    for split in ("train", "test"):
        for folder, ratings in (("pos", range(7, 11)), ("neg", range(1, 5))):
            files = list((IMDB / split / folder).glob("*.txt"))
            assert len(files) >= 50
            for path in files:
                assert re.fullmatch(r"\d+_\d+", path.stem) and int(path.stem.split("_")[1]) in ratings
    assert list((IMDB / "train" / "unsup").glob("*_0.txt"))


def test_imdb_sample_content():
    train, test = read_imdb(IMDB, "train"), read_imdb(IMDB, "test")
    assert len(train) + len(test) >= 300
    for frame in (train, test):
        assert abs(frame.label.mean() - 0.5) < 0.05
    words = pd.concat([train, test]).text.str.split().str.len()
    assert words.min() < 12 and words.max() > 250
    raw = [p.read_text(encoding="utf-8") for p in IMDB.glob("train/*/*.txt")]
    assert sum("<br />" in text for text in raw) > 0.2 * len(raw)
    assert any(not text.isascii() for text in raw)
    assert pd.concat([train, test]).text.is_unique
    assert fit_and_score(train, test, "word", (1, 2)) > 0.7


def test_multiclass_sample():
    frames = [pd.read_csv(MULTICLASS / f"{split}.tsv", sep="\t", quoting=csv.QUOTE_NONE)
              for split in ("train", "dev")]
    train, dev = frames
    assert list(train.columns) == ["comments", "contain_gender_bias", "bias", "hate"]
    assert len(train) + len(dev) >= 300
    for frame in frames:
        assert set(frame.hate) == {"none", "offensive", "hate"}
        assert frame.hate.value_counts(normalize=True).min() > 0.25
        assert set(frame.bias) <= {"none", "gender", "others"}
    assert pd.concat(frames).comments.is_unique
    renamed = [f.rename(columns={"comments": "text", "hate": "label"}) for f in frames]
    assert fit_and_score(*renamed, "char_wb", (2, 4)) > 0.5  # chance is 1/3


def test_sample_files_are_utf8_without_bom_or_crlf():
    paths = sorted(SAMPLE_DIR.rglob("*.t*"))
    assert len(paths) > 300
    for path in paths:
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw, path
        raw.decode("utf-8")
