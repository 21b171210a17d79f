"""Reading, loading and downloading the book's data sets.

``read_*`` parse files already on disk; ``load_*`` pick the source by mode
(smoke: the bundled samples under ``data/sample``; full: the real data set,
downloaded once into the cache folder) and call the reader.
"""
import hashlib
import os
import re
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from utils.env import book_mode

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

# NSMC publishes no checksum, so download() records the sha256 of the first download
# next to the file and checks the cached copy against it afterwards.
NSMC_URL = "https://raw.githubusercontent.com/e9t/nsmc/master/ratings_{split}.txt"
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
HATE_SPEECH_URL = "https://raw.githubusercontent.com/kocohub/korean-hate-speech/master/labeled/{split}.tsv"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


def cache_dir():
    """Where full-mode downloads live: $BOOK_CACHE, else ~/.cache/bert-sentiment-book."""
    root = os.environ.get("BOOK_CACHE") or Path.home() / ".cache" / "bert-sentiment-book"
    return Path(root)


def _check_split(split, allowed):
    if split not in allowed:
        raise ValueError(f"split={split!r} is not one of {allowed}.")


def _tsv_rows(path, header, name, source):
    """``(line_no, fields)`` for each data line of a headed TSV file.

    Quotes are ordinary characters (no CSV quoting), a UTF-8 BOM and CRLF line ends are
    accepted, blank lines are skipped, and a wrong header or field count is a clear error.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name} file not found: {path}. {source}")
    with open(path, encoding="utf-8-sig", newline=None) as f:  # newline=None: CRLF -> LF
        found = f.readline().rstrip("\n").split("\t")
        if found != header:
            raise ValueError(f"{path}, line 1: expected the header {'<TAB>'.join(header)!r}, "
                             f"found {found!r}. Is this a {name} file?")
        for line_no, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != len(header):
                raise ValueError(f"{path}, line {line_no}: expected {len(header)} tab-separated "
                                 f"fields ({', '.join(header)}), found {len(fields)}.")
            yield line_no, fields


def _frame(texts, labels, empty, path, reader):
    if empty:
        print(f"{reader}: {Path(path).name}: dropped {empty} rows with an empty text.")
    frame = pd.DataFrame({"text": texts, "label": labels})
    frame.attrs["dropped_empty"] = empty
    return frame


def read_nsmc(path):
    """Read an NSMC-format file (``id<TAB>document<TAB>label``) into columns text, label.

    Quotes are ordinary characters (no CSV quoting), a UTF-8 BOM and CRLF line ends
    are accepted, and rows with an empty document are dropped and counted.
    """
    source = (f"Call utils.data.load_nsmc('train' or 'test') to download it, or get "
              f"{Path(path).name} from https://github.com/e9t/nsmc and put it there.")
    texts, labels, empty = [], [], 0
    for line_no, (_, document, label) in _tsv_rows(path, ["id", "document", "label"], "NSMC", source):
        if label.strip() not in ("0", "1"):
            raise ValueError(f"{path}, line {line_no}: label must be 0 or 1, found {label!r}.")
        if not document.strip():
            empty += 1
            continue
        texts.append(document)
        labels.append(int(label))
    return _frame(texts, labels, empty, path, "read_nsmc")


HATE_SPEECH_LABELS = ("none", "offensive", "hate")


def _unquote_csv(field):
    """``"a ""b"" c"`` -> ``a "b" c``; any other field (a lone or unpaired quote) stays as it is."""
    inner = field[1:-1]
    if len(field) >= 2 and field[0] == field[-1] == '"' and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return field


def read_korean_hate_speech(path):
    """Read a kocohub/korean-hate-speech labelled TSV (``comments<TAB>contain_gender_bias<TAB>
    bias<TAB>hate``) into columns text and label: 0 none, 1 offensive, 2 hate
    (``HATE_SPEECH_LABELS``). The same robustness as ``read_nsmc``, and one difference: the
    real files wrap a comment that contains ``"`` in quotes and double the inner ones
    (``"a ""b"" c"``), as CSV does; such a comment is unwrapped to ``a "b" c``.
    """
    source = (f"Call utils.data.load_korean_hate_speech('train' or 'dev') to download it, or get "
              f"labeled/{Path(path).name} from https://github.com/kocohub/korean-hate-speech.")
    header = ["comments", "contain_gender_bias", "bias", "hate"]
    texts, labels, empty = [], [], 0
    for line_no, (comment, _, _, hate) in _tsv_rows(path, header, "korean-hate-speech", source):
        if hate.strip() not in HATE_SPEECH_LABELS:
            raise ValueError(f"{path}, line {line_no}: hate must be one of {HATE_SPEECH_LABELS}, "
                             f"found {hate!r}.")
        if not comment.strip():
            empty += 1
            continue
        texts.append(_unquote_csv(comment))
        labels.append(HATE_SPEECH_LABELS.index(hate.strip()))
    return _frame(texts, labels, empty, path, "read_korean_hate_speech")


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def read_imdb(root, split):
    """Read ``root/split/{pos,neg}/ID_RATING.txt`` (aclImdb layout) into columns text, label.

    Only the labelled folders are read (never ``unsup``); ``<br />`` becomes a line break.
    """
    _check_split(split, ("train", "test"))
    root = Path(root)
    frames = []
    for folder, label in (("neg", 0), ("pos", 1)):
        directory = root / split / folder
        if not directory.is_dir():
            raise FileNotFoundError(
                f"IMDB folder not found: {directory}. Call utils.data.load_imdb('{split}') to "
                f"download the data set, or unpack aclImdb_v1.tar.gz from {IMDB_URL} "
                f"so that {root} holds train/ and test/.")
        files = sorted(directory.glob("*.txt"), key=lambda p: int(p.stem.split("_")[0]))
        texts = [_BR.sub("\n", p.read_text(encoding="utf-8")).strip() for p in files]
        frames.append(pd.DataFrame({"text": texts, "label": label}))
    return pd.concat(frames, ignore_index=True)


def _load_file(folder, file_name, url, reader):
    """The bundled sample in smoke mode, else the downloaded (and cached) file; read by ``reader``."""
    if book_mode() == "smoke":
        return reader(SAMPLE_DIR / folder / file_name)
    return reader(download(url, cache_dir() / folder / file_name))


def load_nsmc(split):
    """NSMC 'train' or 'test': the bundled sample in smoke mode, the real file in full mode."""
    _check_split(split, ("train", "test"))
    return _load_file("nsmc", f"ratings_{split}.txt", NSMC_URL.format(split=split), read_nsmc)


def load_korean_hate_speech(split):
    """korean-hate-speech 'train' or 'dev': the bundled sample in smoke mode, the real file in full mode."""
    _check_split(split, ("train", "dev"))
    return _load_file("korean-hate-speech", f"{split}.tsv", HATE_SPEECH_URL.format(split=split),
                      read_korean_hate_speech)


def load_imdb(split):
    """IMDB 'train' or 'test': the bundled sample in smoke mode, aclImdb in full mode."""
    _check_split(split, ("train", "test"))
    if book_mode() == "smoke":
        return read_imdb(SAMPLE_DIR / "aclImdb", split)
    root = cache_dir() / "imdb"
    if not (root / "aclImdb" / "test" / "pos").is_dir():
        archive = download(IMDB_URL, root / "aclImdb_v1.tar.gz", sha256=IMDB_SHA256)
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
    return read_imdb(root / "aclImdb", split)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url, dest, sha256=None):
    """Download ``url`` to ``dest`` once, with a progress bar, and return ``dest``.

    With ``sha256`` the file is checked against it; without, the checksum of the first
    download is recorded in ``dest.sha256`` and later cached copies are checked against
    that. A file that fails the check is removed, never left in the cache as if good.
    A partial ``dest.part`` from an interrupted run is resumed when the server allows.
    """
    dest = Path(dest)
    record = dest.with_name(dest.name + ".sha256")
    expected = sha256 or (record.read_text().strip() if record.is_file() else None)
    if dest.is_file():
        if expected is None or _sha256(dest) == expected:
            return dest
        print(f"download: {dest} does not match its checksum; downloading it again.")
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _fetch(url, part, dest)
    actual = _sha256(part)
    if expected is not None and actual != expected:
        part.unlink()
        raise ValueError(f"Checksum mismatch for {url}: expected sha256 {expected}, got {actual}. "
                         f"The bad file was removed; run again, or put a good copy at {dest}.")
    part.replace(dest)
    record.write_text(actual + "\n")
    return dest


def _fetch(url, part, dest):
    """Stream ``url`` into ``part``, resuming from its size if the server answers 206."""
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            resumed = offset > 0 and getattr(response, "status", None) == 206
            total = int(response.headers.get("Content-Length") or 0) + (offset if resumed else 0)
            small = 0 < total < (1 << 20)  # no progress bar for a file under 1 MiB
            with open(part, "ab" if resumed else "wb") as f, tqdm(
                    total=total or None, initial=offset if resumed else 0, unit="B",
                    unit_scale=True, desc=dest.name, disable=small) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    f.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the partial file is complete or stale: start over
            part.unlink()
            return _fetch(url, part, dest)
        raise ConnectionError(f"Could not download {url} ({error}). Download the file by hand "
                              f"and put it at {dest}") from error
    except (urllib.error.URLError, OSError) as error:
        raise ConnectionError(
            f"Could not download {url} ({error}). Without a network connection, download the "
            f"file on another machine and put it at {dest}") from error
