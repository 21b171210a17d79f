"""Reading, loading and downloading the book's data sets.

``read_*`` parse files already on disk; ``load_*`` pick the source by mode
(smoke: the bundled samples under ``data/sample``; full: the real data set,
downloaded once into the cache folder) and call the reader.

Where full mode downloads from
------------------------------
``SOURCES`` is the one table of every data file full mode downloads: its URL (pinned to
a fixed commit where the host is a git repository, so the file can never change under
the book) and its checksum. A download is accepted only if it matches the checksum and
looks like the data set's format (not an HTML error page, not cut off); a bad one is
removed, never left in the cache as good. ``BOOK_CACHE`` sets the cache folder.

To download from elsewhere without editing code (a mirror in a workshop room, or the
tests' full-mode rehearsal on 127.0.0.1), point the environment variable
``BOOK_SOURCES`` at a JSON file that maps source names to a URL and a sha256::

    {"nsmc-train": {"url": "http://10.0.0.5/ratings_train.txt", "sha256": "<sha256sum of the file>"},
     "imdb": {"url": "http://10.0.0.5/aclImdb_v1.tar.gz", "sha256": null}}

Each entry replaces the built-in entry of that name; ``"sha256": null`` accepts the first
download (after the format check) and checks later cached copies against its checksum.
Pretrained models come from the Hugging Face hub through ``huggingface_hub``, which is
redirected by its own environment variable ``HF_ENDPOINT`` (e.g. ``http://127.0.0.1:8000``).
"""
import csv
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

import pandas as pd

from utils.env import book_mode, in_book_lang, progress

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

NSMC_COMMIT = "cc0670e872d4ac27bfe36c87456783004b39ef6c"          # e9t/nsmc, 2016-06-28 (its latest)
HATE_SPEECH_COMMIT = "f8d05dce2b22007bb149e5139c0060c68ad8f94b"   # kocohub/korean-hate-speech, 2020-07-18
NSMC_URL = f"https://raw.githubusercontent.com/e9t/nsmc/{NSMC_COMMIT}/ratings_{{split}}.txt"
HATE_SPEECH_URL = (f"https://raw.githubusercontent.com/kocohub/korean-hate-speech/"
                   f"{HATE_SPEECH_COMMIT}/labeled/{{split}}.tsv")
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"

# Every file full mode downloads: name -> url and checksum (see the module docstring).
# NSMC publishes no checksum. We pin its files by their git blob ids at NSMC_COMMIT
# (the checksum git keeps for every file of a commit; `git ls-tree NSMC_COMMIT` shows
# them), which we read from that commit ourselves. After the first download passes,
# its sha256 is recorded next to it and the cached copy is checked against that.
SOURCES = {
    "nsmc-train": {"url": NSMC_URL.format(split="train"),
                   "git_blob": "ac0dba272895dc1d0b3dd5f11afbeaeb7abe7876"},
    "nsmc-test": {"url": NSMC_URL.format(split="test"),
                  "git_blob": "b6cfcd8cd1557bcd9bf06617b0e429ed73e9a367"},
    "imdb": {"url": IMDB_URL, "sha256": IMDB_SHA256},
    "korean-hate-speech-train": {
        "url": HATE_SPEECH_URL.format(split="train"),
        "sha256": "ebebacdcd023af2c4acc8c0a37695fb6433ac04fc009feff8f222724e303a5a9"},
    "korean-hate-speech-dev": {
        "url": HATE_SPEECH_URL.format(split="dev"),
        "sha256": "232b615d6e359a9d31dfb8370f32e1733dc5bb3f9c5430d34d7fcc7ba4b7e8ef"},
}


def sources():
    """``SOURCES`` with the entries of the JSON file named by ``$BOOK_SOURCES`` put in."""
    path = os.environ.get("BOOK_SOURCES")
    if not path:
        return SOURCES
    try:
        overrides = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"BOOK_SOURCES={path}: could not read it as a JSON file ({error}). "
                         f"Fix the file, or unset BOOK_SOURCES to use the built-in sources.") from error
    if not isinstance(overrides, dict):
        raise ValueError(f"BOOK_SOURCES={path}: expected a JSON object of source names, found "
                         f"{type(overrides).__name__}.")
    merged = dict(SOURCES)
    for name, entry in overrides.items():
        if name not in SOURCES:
            raise ValueError(f"BOOK_SOURCES={path}: unknown source {name!r}; the names are "
                             f"{sorted(SOURCES)}.")
        if (not isinstance(entry, dict) or not isinstance(entry.get("url"), str)
                or set(entry) - {"url", "sha256"}):
            raise ValueError(f'BOOK_SOURCES={path}: the entry {name!r} must look like {{"url": '
                             f'"http://...", "sha256": "<64 hex digits>" or null}}, found {entry!r}.')
        merged[name] = {"url": entry["url"], "sha256": entry.get("sha256")}
    return merged


def cache_dir():
    """Where full-mode downloads live: $BOOK_CACHE, else ~/.cache/bert-sentiment-book."""
    root = os.environ.get("BOOK_CACHE") or Path.home() / ".cache" / "bert-sentiment-book"
    return Path(root)


def _check_split(split, allowed):
    if split not in allowed:
        raise ValueError(f"split={split!r} is not one of {allowed}.")


def read_rows(path, what, source="", sep="\t", quoted=False):
    """``(header, rows)`` of a text table with a header line; ``rows`` holds ``(line_no, fields)``.

    The one reader of the book's tables: NSMC and korean-hate-speech files, and the fine-tuning
    command's TSV and CSV files. ``sep`` is ``"\t"`` or ``","``. ``quoted=False`` reads quotes as
    ordinary characters (NSMC's TSV); ``quoted=True`` is CSV quoting, where a field in quotes may
    hold the separator, a line break or a doubled quote. A UTF-8 BOM and CRLF line ends are
    accepted and blank lines skipped. A row with the wrong number of fields, a file that is not
    UTF-8, an empty file, a folder or a missing file (``what`` and ``source`` say what it is and
    where to get it) is a clear error naming the file and the line an editor would show.
    """
    path = check_text_file(path, what, source)
    rows = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path} is empty; it needs a header line and rows.")
            for fields in reader:
                if fields in ([], [""]):
                    continue
                if len(fields) != len(header):
                    name = "tab-separated" if sep == "\t" else "comma-separated"
                    raise ValueError(f"{path}, line {reader.line_num}: expected {len(header)} {name} "
                                     f"fields ({', '.join(header)}), found {len(fields)}.")
                rows.append((reader.line_num, fields))
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    except csv.Error as error:
        raise ValueError(f"{path}, line {reader.line_num}: {error}.") from None
    return header, rows


def _tsv_rows(path, header, name, source):
    """``(line_no, fields)`` for each data line of a headed TSV file of a known data set."""
    found, rows = read_rows(path, f"{name} file", source)
    if found != header:
        raise ValueError(f"{path}, line 1: expected the header {'<TAB>'.join(header)!r}, "
                         f"found {found!r}. Is this a {name} file?")
    return rows


def check_text_file(path, what, source=""):
    """``path`` as a Path if it is a file; else a clear error (missing, or a folder)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of the {what} inside it.")
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}. {source}".rstrip())
    return path


def not_utf8(path):
    """The error for a file that is not UTF-8, naming the line a text editor would show."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
        where = ""
    except UnicodeDecodeError as error:
        line_no = data.count(b"\n", 0, error.start) + 1
        where = f" (line {line_no}: byte {data[error.start:error.start + 1]!r})"
    name = Path(path).name
    return ValueError(
        f"{path} is not UTF-8 text{where}. Korean files saved by Excel are usually CP949: convert it, "
        f"e.g. iconv -f cp949 -t utf-8 {name} > utf8-{name}, or in Python: Path('utf8-{name}')"
        f".write_text(Path('{name}').read_text(encoding='cp949'), encoding='utf-8').")


def _frame(texts, labels, empty, path, reader):
    if empty:
        print(in_book_lang(f"{reader}: {Path(path).name}: 텍스트가 빈 행 {empty}개를 뺐습니다.",
                           f"{reader}: {Path(path).name}: dropped {empty} rows with an empty text."))
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
IMDB_NAME = re.compile(r"\d+_\d+\.txt")   # ID_RATING.txt, e.g. 123_8.txt


def _imdb_root_hint(root, split):
    """What to do when ``root`` is not an aclImdb folder: the likely mix-up, else how to get one."""
    if root.is_file():
        return f"{root} is a file; give the folder that holds train/ and test/ (aclImdb)."
    if (root / "aclImdb" / split).is_dir():
        return f"{root} holds aclImdb/: give {root / 'aclImdb'} instead."
    if (root / "pos").is_dir() and (root / "neg").is_dir():
        return f"{root} is one split's folder (it holds pos/ and neg/): give its parent, {root.parent}."
    return (f"Call utils.data.load_imdb('{split}') to download the data set, or unpack aclImdb_v1.tar.gz "
            f"from {IMDB_URL} so that {root} holds train/ and test/.")


def read_imdb(root, split):
    """Read ``root/split/{pos,neg}/ID_RATING.txt`` (aclImdb layout) into columns text, label.

    Only the labelled folders are read (never ``unsup``); ``<br />`` becomes a line break.
    """
    _check_split(split, ("train", "test"))
    root = Path(root)
    texts, labels, skipped, empty = [], [], [], 0
    for folder, label in (("neg", 0), ("pos", 1)):
        directory = root / split / folder
        if not directory.is_dir():
            raise FileNotFoundError(f"IMDB folder not found: {directory}. " + _imdb_root_hint(root, split))
        files = []
        for path in directory.glob("*.txt"):
            (files if IMDB_NAME.fullmatch(path.name) else skipped).append(path)
        for path in sorted(files, key=lambda p: int(p.stem.split("_")[0])):
            try:
                text = _BR.sub("\n", path.read_text(encoding="utf-8")).strip()
            except UnicodeDecodeError:
                raise not_utf8(path) from None
            if not text:
                empty += 1
                continue
            texts.append(text)
            labels.append(label)
    if skipped:
        print(f"read_imdb: skipped {len(skipped)} .txt files not named ID_RATING.txt "
              f"(e.g. {min(skipped)}): IMDB review files are named like 123_8.txt.")
    return _frame(texts, labels, empty, root / split, "read_imdb")


def _load_file(source, folder, file_name, reader, check):
    """The bundled sample in smoke mode, else the downloaded (and cached) file; read by ``reader``.

    ``source`` names the entry of ``sources()`` to download from; ``check`` tells whether
    a downloaded file has the data set's format (see ``download``).
    """
    if book_mode() == "smoke":
        return reader(SAMPLE_DIR / folder / file_name)
    entry = sources()[source]
    path = download(entry["url"], cache_dir() / folder / file_name, sha256=entry.get("sha256"),
                    git_blob=entry.get("git_blob"), check=check)
    return reader(path)


def load_nsmc(split):
    """NSMC 'train' or 'test': the bundled sample in smoke mode, the real file in full mode."""
    _check_split(split, ("train", "test"))
    return _load_file(f"nsmc-{split}", "nsmc", f"ratings_{split}.txt", read_nsmc, nsmc_problem)


def load_korean_hate_speech(split):
    """korean-hate-speech 'train' or 'dev': the bundled sample in smoke mode, the real file in full mode."""
    _check_split(split, ("train", "dev"))
    return _load_file(f"korean-hate-speech-{split}", "korean-hate-speech", f"{split}.tsv",
                      read_korean_hate_speech, hate_speech_problem)


IMDB_EXTRACTED = ".extracted"   # written into aclImdb/ once the whole archive is unpacked


def load_imdb(split):
    """IMDB 'train' or 'test': the bundled sample in smoke mode, aclImdb in full mode."""
    _check_split(split, ("train", "test"))
    if book_mode() == "smoke":
        return read_imdb(SAMPLE_DIR / "aclImdb", split)
    root = cache_dir() / "imdb"
    if not (root / "aclImdb" / IMDB_EXTRACTED).is_file():
        entry = sources()["imdb"]
        archive = download(entry["url"], root / "aclImdb_v1.tar.gz", sha256=entry.get("sha256"),
                           git_blob=entry.get("git_blob"), check=imdb_archive_problem)
        extract_imdb(archive, root)
    return read_imdb(root / "aclImdb", split)


def extract_imdb(archive, root):
    """Unpack ``archive`` (aclImdb_v1.tar.gz) into ``root/aclImdb``, all or nothing.

    It is unpacked into a scratch folder that becomes ``aclImdb`` only when complete,
    with a marker file (``IMDB_EXTRACTED``) inside: an interrupted run leaves no folder
    that could pass for the data set, and a folder without the marker (left by an older
    version of this code) is replaced.
    """
    root = Path(root)
    for stale in root.glob("aclImdb.unpacking-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="aclImdb.unpacking-") as scratch:
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
        unpacked = Path(scratch) / "aclImdb"
        (unpacked / IMDB_EXTRACTED).write_text("complete\n")
        final = root / "aclImdb"
        if final.exists():
            shutil.rmtree(final)
        unpacked.rename(final)
    return final


# ----------------------------------------------------------------------------- format checks
# Each returns what makes a downloaded file unusable, in words, or None for a good file.
# They catch what goes wrong with downloads: an HTML error page served instead of the
# data, the wrong file, a transfer cut off half-way.

NSMC_HEADER = ["id", "document", "label"]
HATE_SPEECH_HEADER = ["comments", "contain_gender_bias", "bias", "hate"]


def _table_problem(path, header, row_is_good, rule):
    """The problem of a headed TSV file whose rows should all pass ``row_is_good``, or None."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = f.readline()
            if first.rstrip("\r\n").split("\t") != header:
                found = "an HTML page" if first.lstrip().startswith("<") else repr(first[:60])
                return f"the first line should be the header {'<TAB>'.join(header)!r}, found {found}"
            line_no, line = 1, first
            for line_no, line in enumerate(f, start=2):
                fields = line.rstrip("\r\n").split("\t")
                if line.strip() and not (len(fields) == len(header) and row_is_good(fields)):
                    return (f"line {line_no} is not {len(header)} tab-separated fields with {rule}: "
                            f"{line[:80]!r}")
    except UnicodeDecodeError:
        return "it is not UTF-8 text"
    if line_no == 1:
        return "it has a header but no rows"
    if not line.endswith("\n"):
        return "its last line has no line break, so the download was cut off"
    return None


def nsmc_problem(path):
    """What makes ``path`` not a whole NSMC file, or None (numeric ids, labels 0 or 1)."""
    return _table_problem(path, NSMC_HEADER, lambda f: f[0].isdigit() and f[2] in ("0", "1"),
                          "a numeric id and a label 0 or 1")


def hate_speech_problem(path):
    """What makes ``path`` not a whole korean-hate-speech labelled file, or None."""
    return _table_problem(path, HATE_SPEECH_HEADER, lambda f: f[3] in HATE_SPEECH_LABELS,
                          f"a hate label in {HATE_SPEECH_LABELS}")


def imdb_archive_problem(path):
    """What makes ``path`` not a whole aclImdb_v1.tar.gz, or None (reads it through once)."""
    try:
        with tarfile.open(path) as tar:
            folders = {str(PurePosixPath(name).parent) for name in tar.getnames()}
    except (tarfile.TarError, EOFError, OSError) as error:
        return f"it is not a complete .tar.gz archive ({error})"
    missing = [f"aclImdb/{split}/{label}" for split in ("train", "test") for label in ("pos", "neg")
               if f"aclImdb/{split}/{label}" not in folders]
    return f"the archive lacks the folders {missing}" if missing else None


# ----------------------------------------------------------------------------- download

def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git_blob_id(path):
    """The id git gives a file's content: sha1 of ``b"blob <size>\\0"`` and the bytes."""
    digest = hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _problem(path, sha256, git_blob, check):
    """What is wrong with ``path``: a checksum mismatch, else ``check``'s answer; None if good."""
    if sha256 and (actual := _sha256(path)) != sha256:
        return f"checksum mismatch: expected sha256 {sha256}, got {actual}"
    if git_blob and (actual := _git_blob_id(path)) != git_blob:
        return f"checksum mismatch: expected git blob id {git_blob}, got {actual}"
    return check(path) if check else None


def download(url, dest, sha256=None, git_blob=None, check=None):
    """Download ``url`` to ``dest`` once, with a progress bar, and return ``dest``.

    A new download is accepted only if it is complete (as long as the server said), matches
    ``sha256`` (or ``git_blob``, git's id of the content) and passes ``check(path)``, a
    function that returns what makes the file unusable (e.g. ``nsmc_problem``) or None. A
    rejected file is removed, never left in the cache as if good; a transfer cut off keeps
    ``dest.part``, and the next call resumes it when the server allows. An accepted file's
    sha256 is recorded in ``dest.sha256``.

    A cached copy is checked before it is used: against the pinned checksum where there is
    one, else against the recorded one. A damaged copy that this function downloaded is
    downloaded again. A file without a record was put there by hand and is never deleted: a
    wrong one is reported with both checksums and what to do.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise IsADirectoryError(f"download: {dest} is a folder. Give the path of the file to write, "
                                f"e.g. {dest / (PurePosixPath(url).name or 'data')}.")
    record = dest.with_name(dest.name + ".sha256")
    if dest.is_file() and _cached_copy_is_good(url, dest, record, sha256, git_blob, check):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _fetch(url, part, dest)
    problem = _problem(part, sha256, git_blob, check)
    if problem:
        part.unlink()
        raise ValueError(f"Rejected the download of {url}: {problem}. The bad file was removed. "
                         f"Run again; if it fails again, download the file by hand and put it at "
                         f"{dest}, or fix the URL (BOOK_SOURCES, see utils/data.py).")
    part.replace(dest)
    record.write_text(_sha256(dest) + "\n")
    return dest


def _cached_copy_is_good(url, dest, record, sha256, git_blob, check):
    """Whether the cached ``dest`` can be used. A damaged download is removed (to fetch it
    again); a file placed by hand is kept, and a wrong one raises ValueError."""
    recorded = record.read_text().strip() if record.is_file() else None
    if sha256 or git_blob:  # pinned: the pin decides, whoever put the file there
        problem = _problem(dest, sha256, git_blob, None)
    else:
        problem = _problem(dest, recorded, None, None if recorded else check)
    if problem is None:
        return True
    if recorded is None:
        raise ValueError(f"{dest} is not the expected file: {problem}. It was not downloaded by the "
                         f"book (there is no {record.name} next to it), so it is left in place. Replace "
                         f"it with the original file from {url}, or delete it and run again to download it.")
    print(f"download: the cached {dest} is damaged ({problem}); downloading it again.")
    dest.unlink()
    record.unlink()
    return False


def _fetch(url, part, dest):
    """Stream ``url`` into ``part``, resuming from its size if the server answers 206."""
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    total = 0
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            resumed = offset > 0 and getattr(response, "status", None) == 206
            total = int(response.headers.get("Content-Length") or 0) + (offset if resumed else 0)
            small = 0 < total < (1 << 20)  # no progress bar for a file under 1 MiB
            with open(part, "ab" if resumed else "wb") as f, progress(
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
    if total and part.stat().st_size < total:  # the server closed the connection early
        raise ConnectionError(
            f"The download of {url} stopped after {part.stat().st_size:,} of {total:,} bytes. What "
            f"arrived is kept in {part}; run again to resume (or to start over if the server cannot resume).")


def stratified_folds(labels, n_folds=5, seed=42):
    """``[(train_idx, valid_idx), ...]``: a stratified k-fold split of the TRAINING labels only.

    Every sample is in exactly one validation fold and each fold keeps the class
    proportions. Pass only training labels: the test set stays out of model selection.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    smallest = np.bincount(labels).min() if len(labels) else 0
    if smallest < n_folds:
        raise ValueError(f"n_folds={n_folds} needs at least {n_folds} samples of every class; "
                         f"the rarest class has {smallest}. Use fewer folds or more data.")
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def stratified_subset(frame, n, seed=42, label="label"):
    """``n`` rows of ``frame`` with its class proportions (all of it when ``n`` is None or >= its size).

    The CPU plan of the Gluon chapters trains on such a sample of the training set; the
    same ``seed`` gives the same rows.
    """
    if n is None or n >= len(frame):
        return frame
    from sklearn.model_selection import train_test_split

    return train_test_split(frame, train_size=n, stratify=frame[label], random_state=seed)[0]
