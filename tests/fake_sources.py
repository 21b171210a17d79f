"""Stand-ins for the book's download hosts, served on 127.0.0.1, for the full-mode rehearsal.

``fabricate(folder)`` writes files in the real formats, made up here (no data set text):
the NSMC TSVs, aclImdb_v1.tar.gz and the korean-hate-speech TSVs, built from the bundled
samples under data/sample (which this project wrote), and two tiny BERT checkpoints laid
out as on the Hugging Face hub: ``bert-base-uncased`` (config.json, model.safetensors,
vocab.txt) and ``skt/kobert-base-v1`` (config.json, pytorch_model.bin, spiece.model), with
vocabularies trained on the fabricated text.

``FakeSources`` serves them over HTTP in a thread and logs every request:
- data files at the path of their real URL (``/e9t/nsmc/<commit>/ratings_train.txt``
  stands for https://raw.githubusercontent.com/e9t/nsmc/<commit>/ratings_train.txt);
  ``book_sources()`` writes the BOOK_SOURCES file that sends utils.data there;
- the part of the Hugging Face hub's protocol that huggingface_hub and transformers use:
  ``HEAD``/``GET /{repo}/resolve/{revision}/{file}`` answered with X-Repo-Commit, ETag and
  Content-Length, and a 404 with ``X-Error-Code: EntryNotFound`` for a file the repository
  does not have. Point ``HF_ENDPOINT`` at ``server.url``.
"""
import hashlib
import http.server
import io
import json
import re
import shutil
import tarfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from utils import data

SAMPLE = data.SAMPLE_DIR
NSMC_ROWS = {"train": 300, "test": 100}   # the fabricated NSMC files' sizes
TINY_BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 max_position_embeddings=512)  # as the real checkpoints: chapters read up to 512

# What each data source is served as: the real URL's path (so a changed URL or file name
# in utils.data.SOURCES finds nothing here) -> the fabricated file's name.
DATA_PATHS = {
    "nsmc-train": f"/e9t/nsmc/{data.NSMC_COMMIT}/ratings_train.txt",
    "nsmc-test": f"/e9t/nsmc/{data.NSMC_COMMIT}/ratings_test.txt",
    "imdb": "/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "korean-hate-speech-train": f"/kocohub/korean-hate-speech/{data.HATE_SPEECH_COMMIT}/labeled/train.tsv",
    "korean-hate-speech-dev": f"/kocohub/korean-hate-speech/{data.HATE_SPEECH_COMMIT}/labeled/dev.tsv",
}


# ----------------------------------------------------------------------------- fabricated files

def _sample_nsmc_rows():
    """(document, label) rows of the bundled NSMC sample, empty documents left out."""
    rows = []
    for split in ("train", "test"):
        lines = (SAMPLE / "nsmc" / f"ratings_{split}.txt").read_text(encoding="utf-8").splitlines()[1:]
        rows += [(doc, label) for _, doc, label in (line.split("\t") for line in lines) if doc.strip()]
    return rows


def fabricate_nsmc(folder):
    """ratings_train.txt and ratings_test.txt in NSMC's format, with fresh ids and
    ``NSMC_ROWS`` rows each (sample reviews reused), so a test can tell them from the sample."""
    rows = _sample_nsmc_rows()
    paths, start = {}, 0
    for split, count in NSMC_ROWS.items():
        lines = ["id\tdocument\tlabel"]
        for i in range(start, start + count):
            document, label = rows[i % len(rows)]
            lines.append(f"{9_000_000 + i}\t{document}\t{label}")
        start += count
        paths[split] = Path(folder) / f"ratings_{split}.txt"
        paths[split].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def fabricate_imdb(path):
    """aclImdb_v1.tar.gz as Stanford packs it: aclImdb/{train,test}/{pos,neg}/ID_RATING.txt,
    train/unsup/ and a README, here holding the bundled IMDB sample."""
    with tarfile.open(path, "w:gz") as tar:
        tar.add(SAMPLE / "aclImdb", arcname="aclImdb")
        readme = b"Fabricated for the book's full-mode rehearsal.\n"
        info = tarfile.TarInfo("aclImdb/README")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return path


def _english_texts():
    return [p.read_text(encoding="utf-8") for p in sorted((SAMPLE / "aclImdb").rglob("*.txt"))]


def fabricate_bert(folder, texts, vocab_size=None, kobert=False, lowercase=True):
    """A tiny random BERT saved as on the hub: config.json and model.safetensors plus a
    WordPiece vocab.txt and tokenizer_config.json (bert-base-uncased; ``lowercase=False``:
    bert-base-multilingual-cased), or pytorch_model.bin plus a SentencePiece spiece.model
    (KoBERT, whose repository has no .safetensors)."""
    import torch
    from transformers import BertConfig, BertForPreTraining

    from utils import tokenization

    folder = Path(folder)
    scratch = folder / "scratch"
    if kobert:
        vocab_file = tokenization.train_korean_sentencepiece(texts, scratch, vocab_size=vocab_size)
        vocab_size = len(tokenization.KoBertTokenizer(vocab_file))
    else:
        vocab_file = tokenization.train_wordpiece(texts, scratch, vocab_size=vocab_size, lowercase=lowercase)
        vocab_size = len(vocab_file.read_text(encoding="utf-8").splitlines())
        shutil.move(scratch / "tokenizer_config.json", folder / "tokenizer_config.json")
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=vocab_size, **TINY_BERT))
    model.save_pretrained(folder)   # config.json, model.safetensors ("bert." and "cls." weights)
    if kobert:
        (folder / "model.safetensors").unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    shutil.move(vocab_file, folder / vocab_file.name)
    shutil.rmtree(scratch)
    return folder


def fabricate(folder):
    """Write every fabricated file under ``folder``; return {served path: local file}."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True)
    nsmc = fabricate_nsmc(folder / "data")
    files = {DATA_PATHS["nsmc-train"]: nsmc["train"], DATA_PATHS["nsmc-test"]: nsmc["test"],
             DATA_PATHS["imdb"]: fabricate_imdb(folder / "data" / "aclImdb_v1.tar.gz")}
    for split in ("train", "dev"):
        files[DATA_PATHS[f"korean-hate-speech-{split}"]] = shutil.copy(
            SAMPLE / "korean-hate-speech" / f"{split}.tsv", folder / "data" / f"{split}.tsv")
    korean = [line.split("\t")[1] for line in nsmc["train"].read_text(encoding="utf-8").splitlines()[1:]]
    repos = {"bert-base-uncased": fabricate_bert(folder / "bert-base-uncased", _english_texts(), 1000),
             "skt/kobert-base-v1": fabricate_bert(folder / "kobert", korean, 800, kobert=True),
             "bert-base-multilingual-cased": fabricate_bert(folder / "mbert", korean + _english_texts(), 1500,
                                                            lowercase=False)}
    for repo, repo_folder in repos.items():
        for file in repo_folder.iterdir():
            files[f"/{repo}/{file.name}"] = file
    return files


# ----------------------------------------------------------------------------- the server

_REPO = r"(?P<repo>[^/]+(?:/[^/]+)?)"
_RESOLVE = re.compile(rf"^/{_REPO}/resolve/(?P<revision>[^/]+)/(?P<file>.+)$")
_MODEL_INFO = re.compile(rf"^/api/models/{_REPO}(?:/revision/[^/]+)?$")
_TREE = re.compile(rf"^/api/models/{_REPO}/tree/[^/]+(?P<folder>/.+)?$")


class FakeSources:
    """An HTTP server on 127.0.0.1 (a random port) serving ``files`` ({path: local file}).

    ``requests`` logs every request as ``"METHOD /path"``; ``replace(path, content)``
    serves other bytes under a path (e.g. a corrupted copy).
    """

    def __init__(self, files):
        self.files = {path: Path(file).read_bytes() for path, file in files.items()}
        self.requests = []
        self.commits = {}   # repository -> its fake commit hash (the hub's X-Repo-Commit)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):
                server._answer(self, body=False)

            def do_GET(self):
                server._answer(self, body=True)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def replace(self, path, content):
        self.files[path] = content

    def hub_requests(self, method=None, since=0):
        """The hub's file requests as ``"METHOD repo file"`` (of one ``method`` if given),
        from the ``since``-th logged request on."""
        found = []
        for request in self.requests[since:]:
            verb, path = request.split(" ", 1)
            match = _RESOLVE.match(path)
            if match and method in (None, verb):
                found.append(f"{verb} {match['repo']} {match['file']}")
        return found

    def book_sources(self, path, sha256=None):
        """Write the BOOK_SOURCES file that sends every data source here; return its path.

        Each URL is utils.data's own with the host replaced by this server, and each
        sha256 that of the served file (``sha256`` overrides some, by source name).
        """
        entries = {}
        for name, entry in data.SOURCES.items():
            served = urlsplit(entry["url"]).path
            content = self.files.get(served, b"")
            entries[name] = {"url": self.url + served,
                             "sha256": (sha256 or {}).get(name, hashlib.sha256(content).hexdigest())}
        Path(path).write_text(json.dumps(entries, indent=1), encoding="utf-8")
        return Path(path)

    def _repo_files(self, repo):
        return {p[len(repo) + 2:]: content for p, content in self.files.items() if p.startswith(f"/{repo}/")}

    def _api(self, handler, path, body):
        """The hub's JSON API as transformers asks it: model info (the commit and the file
        list) and a folder listing; anything else is a 404, which transformers tolerates."""
        info, tree = _MODEL_INFO.match(path), _TREE.match(path)
        repo = (info or tree)["repo"] if (info or tree) else None
        files = self._repo_files(repo) if repo else {}
        if not files:
            return self._send(handler, 404, b"{}", {"X-Error-Code": "RepoNotFound"}, body)
        commit = self.commits.setdefault(repo, hashlib.sha1(repo.encode()).hexdigest())
        if info:
            answer = {"id": repo, "modelId": repo, "sha": commit, "private": False,
                      "siblings": [{"rfilename": name} for name in sorted(files)]}
        elif tree["folder"]:   # the repositories here have no folders
            return self._send(handler, 404, b"{}", {"X-Error-Code": "EntryNotFound"}, body)
        else:
            answer = [{"type": "file", "path": name, "size": len(content),
                       "oid": hashlib.sha1(content).hexdigest()} for name, content in sorted(files.items())]
        self._send(handler, 200, json.dumps(answer).encode(), {"Content-Type": "application/json"}, body)

    def _answer(self, handler, body):
        path = urlsplit(handler.path).path
        self.requests.append(f"{handler.command} {path}")
        if path.startswith("/api/"):
            return self._api(handler, path, body)
        match = _RESOLVE.match(path)
        headers = {}
        if match:   # the hub: /{repo}/resolve/{revision}/{file}
            repo = match["repo"]
            if not self._repo_files(repo):
                return self._send(handler, 401, b"", {"X-Error-Code": "RepoNotFound"}, body)
            commit = self.commits.setdefault(repo, hashlib.sha1(repo.encode()).hexdigest())
            headers["X-Repo-Commit"] = commit
            path = f"/{repo}/{match['file']}"
            if path not in self.files:
                headers["X-Error-Code"] = "EntryNotFound"
                return self._send(handler, 404, b"Entry not found", headers, body)
        if path not in self.files:
            return self._send(handler, 404, b"404: Not Found", headers, body)
        content = self.files[path]
        headers["ETag"] = f'"{hashlib.sha256(content).hexdigest()}"'
        self._send(handler, 200, content, headers, body)

    @staticmethod
    def _send(handler, status, content, headers, body):
        handler.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(content))}.items():
            handler.send_header(name, value)
        handler.end_headers()
        if body:
            handler.wfile.write(content)


# ----------------------------------------------------------------------------- the pytest fixture

class Rehearsal:
    """The running ``server`` and what a full-mode process needs to use it (``env``)."""

    def __init__(self, server, folder):
        self.server, self.folder = server, Path(folder)
        self.sources_file = server.book_sources(self.folder / "book_sources.json")

    def env(self, cache, **extra):
        """Environment for a full-mode subprocess that downloads only from ``server``,
        caching into the fresh folder ``cache`` (data in cache/book, models in cache/hf)."""
        import os

        env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
        env.update(BOOK_MODE="full", BOOK_SOURCES=str(self.sources_file), BOOK_CACHE=str(Path(cache) / "book"),
                   HF_ENDPOINT=self.server.url, HF_HOME=str(Path(cache) / "hf"),
                   # gluonnlp's model zoo, if anything tried it, would ask this server (and be seen)
                   MXNET_GLUON_REPO=self.server.url + "/gluon-zoo/", MXNET_HOME=str(Path(cache) / "mxnet"),
                   HF_HUB_DISABLE_TELEMETRY="1", TQDM_DISABLE="1")
        env.update(extra)
        return env


@pytest.fixture(scope="session")
def full_mode(tmp_path_factory):
    """A ``Rehearsal``: the files fabricated once and served for the whole session.

    Use it in a test module with ``from fake_sources import full_mode`` and run full-mode
    code (a script, a notebook) in a subprocess with ``env=full_mode.env(tmp_path)``.
    """
    folder = tmp_path_factory.mktemp("full-mode-sources")
    with FakeSources(fabricate(folder / "www")) as server:
        yield Rehearsal(server, folder)
