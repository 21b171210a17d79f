import hashlib
import http.server
import io
import json
import re
import tarfile
import threading
from pathlib import Path

import pandas as pd
import pytest

from utils import data


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


HEADER = "id\tdocument\tlabel\n"


def test_read_nsmc_keeps_quotes_inside_documents(tmp_path):
    rows = ['1\t"반전"이라더니 반전 없음\t0', '2\t"명작은 명작이다 라는 말\t1', '3\t그냥 그럼"\t0', '4\t최고 👍\t1']
    frame = data.read_nsmc(write(tmp_path / "r.txt", HEADER + "\n".join(rows) + "\n"))
    assert list(frame.columns) == ["text", "label"]
    assert frame["text"].tolist() == ['"반전"이라더니 반전 없음', '"명작은 명작이다 라는 말', '그냥 그럼"', "최고 👍"]
    assert frame["label"].tolist() == [0, 1, 0, 1]
    assert frame["label"].dtype.kind == "i"


def test_read_nsmc_bom_and_crlf(tmp_path):
    text = HEADER.replace("\n", "\r\n") + "1\t좋아요\t1\r\n2\t별로\t0\r\n"
    frame = data.read_nsmc(write(tmp_path / "r.txt", text, encoding="utf-8-sig"))
    assert frame["text"].tolist() == ["좋아요", "별로"]
    assert frame["label"].tolist() == [1, 0]


def test_read_nsmc_drops_and_reports_empty_documents(tmp_path, capsys):
    frame = data.read_nsmc(write(tmp_path / "r.txt", HEADER + "1\t\t1\n2\t   \t0\n3\t굿\t1\n"))
    assert frame["text"].tolist() == ["굿"]
    assert frame.attrs["dropped_empty"] == 2
    assert "dropped 2 rows" in capsys.readouterr().out


def test_read_nsmc_bad_label_names_file_and_line(tmp_path):
    path = write(tmp_path / "ratings_bad.txt", HEADER + "1\t좋다\t1\n2\t나쁘다\t2\n")
    with pytest.raises(ValueError, match=r"ratings_bad.txt, line 3: label must be 0 or 1"):
        data.read_nsmc(path)


def test_read_nsmc_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ratings_train.txt.*load_nsmc.*github.com/e9t/nsmc"):
        data.read_nsmc(tmp_path / "ratings_train.txt")


def test_read_nsmc_wrong_header_or_field_count(tmp_path):
    with pytest.raises(ValueError, match="line 1: expected the header"):
        data.read_nsmc(write(tmp_path / "a.txt", "text\tlabel\n좋다\t1\n"))
    with pytest.raises(ValueError, match="line 2: expected 3 tab-separated fields"):
        data.read_nsmc(write(tmp_path / "b.txt", HEADER + "1\t좋다\t진짜\t1\n"))


HATE_HEADER = "comments\tcontain_gender_bias\tbias\thate\n"


def test_read_korean_hate_speech_maps_labels_and_unwraps_only_csv_quoted_comments(tmp_path):
    rows = ['"진짜" 웃기네 ㅋㅋ\tFalse\tnone\tnone', '이런 사람은 퇴출해라\tFalse\tothers\thate',
            '수준 실화냐"\tTrue\tgender\toffensive', '   \tFalse\tnone\tnone',
            '"노래 제목이 ""봄날""이었나"\tFalse\tnone\tnone', '"그냥" 그렇다 "별로"\tFalse\tnone\toffensive']
    text = HATE_HEADER.replace("\n", "\r\n") + "\r\n".join(rows) + "\r\n"
    frame = data.read_korean_hate_speech(write(tmp_path / "train.tsv", text, encoding="utf-8-sig"))
    assert frame["text"].tolist() == ['"진짜" 웃기네 ㅋㅋ', "이런 사람은 퇴출해라", '수준 실화냐"',
                                      '노래 제목이 "봄날"이었나', '"그냥" 그렇다 "별로"']
    assert frame["label"].tolist() == [0, 2, 1, 0, 1] and frame.attrs["dropped_empty"] == 1
    assert [data.HATE_SPEECH_LABELS[k] for k in frame["label"]] == ["none", "hate", "offensive", "none", "offensive"]


def test_read_korean_hate_speech_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(ValueError, match=r"bad.tsv, line 2: hate must be one of"):
        data.read_korean_hate_speech(write(tmp_path / "bad.tsv", HATE_HEADER + "댓글\tFalse\tnone\tbad\n"))
    with pytest.raises(ValueError, match="line 1: expected the header"):
        data.read_korean_hate_speech(write(tmp_path / "nsmc.txt", HEADER + "1\t좋다\t1\n"))
    with pytest.raises(FileNotFoundError, match=r"dev.tsv.*load_korean_hate_speech.*kocohub"):
        data.read_korean_hate_speech(tmp_path / "dev.tsv")


def test_load_korean_hate_speech_smoke_reads_the_bundled_sample(monkeypatch):
    monkeypatch.setenv("BOOK_MODE", "smoke")
    train, dev = data.load_korean_hate_speech("train"), data.load_korean_hate_speech("dev")
    assert len(train) > 100 and len(dev) > 50 and set(train["label"]) == {0, 1, 2}
    with pytest.raises(ValueError, match="'test'"):
        data.load_korean_hate_speech("test")


def make_imdb(root):
    files = {"train/pos/0_9.txt": "Great film.<br /><br />Loved the café scene — “wow”.",
             "train/pos/10_7.txt": "Good.", "train/pos/2_8.txt": "Fine<br/>really",
             "train/neg/0_1.txt": "Awful.", "train/unsup/0_0.txt": "No label here.",
             "test/pos/0_10.txt": "Best.", "test/neg/0_2.txt": "Worst."}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_read_imdb_reads_pos_and_neg_only(tmp_path):
    frame = data.read_imdb(make_imdb(tmp_path), "train")
    assert len(frame) == 4  # never unsup/
    assert "No label here." not in frame["text"].tolist()
    assert frame["label"].tolist() == [0, 1, 1, 1]
    assert frame["text"].tolist()[1:] == ["Great film.\n\nLoved the café scene — “wow”.", "Fine\nreally", "Good."]


def test_read_imdb_errors(tmp_path):
    with pytest.raises(ValueError, match="split"):
        data.read_imdb(make_imdb(tmp_path), "unsup")
    with pytest.raises(FileNotFoundError, match=r"load_imdb\('test'\)"):
        data.read_imdb(tmp_path / "nowhere", "test")


def test_read_imdb_names_the_folder_mix_up(tmp_path):
    root = make_imdb(tmp_path / "aclImdb")
    with pytest.raises(FileNotFoundError, match=r"holds aclImdb/: give .*aclImdb instead"):
        data.read_imdb(tmp_path, "train")                      # the folder above aclImdb
    with pytest.raises(FileNotFoundError, match=r"one split's folder .* give its parent"):
        data.read_imdb(root / "train", "train")                # aclImdb/train itself
    with pytest.raises(FileNotFoundError, match=r"is a file; give the folder"):
        data.read_imdb(root / "train" / "pos" / "0_9.txt", "train")


def test_load_in_smoke_mode_reads_the_bundled_samples():
    nsmc = data.load_nsmc("test")
    imdb = data.load_imdb("test")
    assert len(nsmc) >= 100 and set(nsmc["label"]) == {0, 1}
    assert len(imdb) >= 100 and set(imdb["label"]) == {0, 1}
    with pytest.raises(ValueError, match="split"):
        data.load_nsmc("valid")


def use_sources(tmp_path, monkeypatch, entries):
    """Point BOOK_SOURCES at a JSON file of ``entries`` (the documented override)."""
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    monkeypatch.setenv("BOOK_SOURCES", str(path))
    return path


def test_load_in_full_mode_uses_a_hand_placed_copy_that_passes_the_format_check(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_MODE", "full")
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path))
    use_sources(tmp_path, monkeypatch, {"nsmc-test": {"url": "http://127.0.0.1:9/x", "sha256": None}})
    cached = tmp_path / "nsmc" / "ratings_test.txt"
    cached.parent.mkdir()
    cached.write_text(HEADER + "1\t캐시에서 읽음\t1\n", encoding="utf-8")
    assert data.load_nsmc("test")["text"].tolist() == ["캐시에서 읽음"]  # no request (port 9 is closed)


# --- where full mode downloads from -----------------------------------------------------

def test_sources_are_pinned_and_checksummed(monkeypatch):
    monkeypatch.delenv("BOOK_SOURCES", raising=False)
    assert data.sources() is data.SOURCES
    for name, entry in data.SOURCES.items():
        assert "/master/" not in entry["url"] and (entry.get("sha256") or entry.get("git_blob")), name
    assert data.NSMC_COMMIT in data.SOURCES["nsmc-train"]["url"]
    assert data.HATE_SPEECH_COMMIT in data.SOURCES["korean-hate-speech-dev"]["url"]


def test_book_sources_replaces_the_named_entries_only(tmp_path, monkeypatch):
    use_sources(tmp_path, monkeypatch, {"imdb": {"url": "http://mirror/aclImdb_v1.tar.gz"},
                                        "nsmc-test": {"url": "http://mirror/t.txt", "sha256": "ab" * 32}})
    merged = data.sources()
    assert merged["imdb"] == {"url": "http://mirror/aclImdb_v1.tar.gz", "sha256": None}
    assert merged["nsmc-test"] == {"url": "http://mirror/t.txt", "sha256": "ab" * 32}  # no git_blob left
    assert merged["nsmc-train"] == data.SOURCES["nsmc-train"]


@pytest.mark.parametrize("entries, message", [
    ({"nsmc": {"url": "http://x"}}, "unknown source 'nsmc'; the names are"),
    ({"imdb": "http://x"}, "the entry 'imdb' must look like"),
    ({"imdb": {"url": "http://x", "md5": "0"}}, "the entry 'imdb' must look like"),
    (["imdb"], "expected a JSON object"),
])
def test_book_sources_errors_say_what_is_wrong(tmp_path, monkeypatch, entries, message):
    use_sources(tmp_path, monkeypatch, entries)
    with pytest.raises(ValueError, match=re.escape(message)):
        data.sources()


def test_book_sources_that_is_not_json(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_SOURCES", str(write(tmp_path / "s.json", "{nsmc: 1")))
    with pytest.raises(ValueError, match="could not read it as a JSON file.*unset BOOK_SOURCES"):
        data.sources()


# --- format checks of downloads -----------------------------------------------------------

@pytest.mark.parametrize("text, problem", [
    (HEADER + "1\t좋다\t1\n2\t\t0\n", None),
    (HEADER.replace("\n", "\r\n") + "1\t좋다\t1\r\n", None),
    ("<!DOCTYPE html>\n<html><body>429 Too Many Requests</body></html>\n", "found an HTML page"),
    ("404: Not Found", "should be the header 'id<TAB>document<TAB>label'"),
    (HEADER + "1\t좋다\t1\n2\t별로", "line 3 is not 3 tab-separated fields"),   # cut in a document
    (HEADER + "1\t좋다\t1\n2\t별로\t0", "no line break, so the download was cut off"),
    (HEADER + "1\t좋다\t1\nx9\t별로\t0\n", "line 3 is not 3 tab-separated fields with a numeric id"),
    (HEADER + "1\t좋다\t2\n", "line 2 is not 3 tab-separated fields with a numeric id and a label 0 or 1"),
    (HEADER, "a header but no rows"),
])
def test_nsmc_problem(tmp_path, text, problem):
    found = data.nsmc_problem(write(tmp_path / "r.txt", text))
    assert found == problem if problem is None else problem in found


def test_nsmc_problem_rejects_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(HEADER.encode() + "1\t좋다\t1\n".encode("cp949"))
    assert data.nsmc_problem(path) == "it is not UTF-8 text"


def test_hate_speech_problem(tmp_path):
    good = HATE_HEADER + "댓글\tFalse\tnone\tnone\n"
    assert data.hate_speech_problem(write(tmp_path / "a.tsv", good)) is None
    assert "with a hate label in" in data.hate_speech_problem(write(tmp_path / "b.tsv", good.replace("\tnone\n", "\t1\n")))
    assert "should be the header" in data.hate_speech_problem(write(tmp_path / "c.tsv", HEADER + "1\t좋다\t1\n"))


def make_imdb_archive(path, folders=("train/pos", "train/neg", "test/pos", "test/neg", "train/unsup")):
    with tarfile.open(path, "w:gz") as tar:
        for i, folder in enumerate(folders):
            payload = f"Review {i}.<br />Fine.".encode()
            info = tarfile.TarInfo(f"aclImdb/{folder}/{i}_{7 if 'pos' in folder else 2}.txt")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_imdb_archive_problem(tmp_path):
    good = make_imdb_archive(tmp_path / "good.tar.gz")
    assert data.imdb_archive_problem(good) is None
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:-40])
    assert "not a complete .tar.gz archive" in data.imdb_archive_problem(cut)
    assert "not a complete" in data.imdb_archive_problem(write(tmp_path / "page.tar.gz", "<html></html>"))
    partial = make_imdb_archive(tmp_path / "partial.tar.gz", folders=("train/pos", "train/neg"))
    assert "lacks the folders ['aclImdb/test/pos', 'aclImdb/test/neg']" in data.imdb_archive_problem(partial)


# --- IMDB extraction ------------------------------------------------------------------------

def full_imdb(tmp_path, monkeypatch, server):
    """Full mode with BOOK_SOURCES pointing at a fabricated aclImdb_v1.tar.gz on ``server``."""
    www, base = server
    archive = make_imdb_archive(www / "aclImdb_v1.tar.gz")
    monkeypatch.setenv("BOOK_MODE", "full")
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path / "cache"))
    use_sources(tmp_path, monkeypatch, {"imdb": {"url": f"{base}/aclImdb_v1.tar.gz",
                                                 "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}})
    return tmp_path / "cache" / "imdb"


def test_an_interrupted_imdb_extraction_is_redone(tmp_path, monkeypatch, server):
    root = full_imdb(tmp_path, monkeypatch, server)
    real_extractall = tarfile.TarFile.extractall

    def killed_half_way(self, path, **options):
        self.extract(self.getmembers()[0], path, **options)   # one file unpacked, then the kill
        raise KeyboardInterrupt

    monkeypatch.setattr(tarfile.TarFile, "extractall", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        data.load_imdb("train")
    assert not (root / "aclImdb").exists() and not list(root.glob("aclImdb.unpacking-*"))
    monkeypatch.setattr(tarfile.TarFile, "extractall", real_extractall)
    assert data.load_imdb("test")["label"].tolist() == [0, 1]
    assert (root / "aclImdb" / data.IMDB_EXTRACTED).is_file()


def test_a_folder_without_the_completion_marker_is_replaced(tmp_path, monkeypatch, server):
    root = full_imdb(tmp_path, monkeypatch, server)
    (root / "aclImdb" / "test" / "pos").mkdir(parents=True)        # left by an older version,
    (root / "aclImdb" / "test" / "pos" / "0_9.txt").write_text("half")  # killed while unpacking
    (root / "aclImdb.unpacking-x1" / "aclImdb").mkdir(parents=True)     # a killed scratch folder
    assert len(data.load_imdb("test")) == 2 and len(data.load_imdb("train")) == 2
    assert "half" not in data.load_imdb("test")["text"].tolist()
    assert not list(root.glob("aclImdb.unpacking-*"))


# --- download -------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    """An HTTP server on the loopback address serving tmp_path/www, with Range for /ranged/."""
    www = tmp_path / "www"
    www.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def do_GET(self):
            if self.path.startswith("/short/"):  # promises 100 bytes more than it sends, then closes
                body = (www / self.path.removeprefix("/short/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + 100))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return None
            if not self.path.startswith("/ranged/"):
                return super().do_GET()
            body = (www / self.path.removeprefix("/ranged/")).read_bytes()
            start = int(self.headers.get("Range", "bytes=0-").removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                return self.send_error(416)
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start:])

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_checks_and_caches(server, tmp_path):
    www, base = server
    payload = "id\tdocument\tlabel\n1\t좋다\t1\n".encode() * 1000
    (www / "f.txt").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    dest = tmp_path / "cache" / "f.txt"
    assert data.download(f"{base}/f.txt", dest, sha256=digest) == dest
    assert dest.read_bytes() == payload
    (www / "f.txt").unlink()  # cached: no second request
    assert data.download(f"{base}/f.txt", dest, sha256=digest) == dest


def test_download_checksum_mismatch_leaves_no_file(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"tampered")
    dest = tmp_path / "cache" / "f.txt"
    with pytest.raises(ValueError, match="checksum mismatch: expected sha256 0{64}, got .*removed"):
        data.download(f"{base}/f.txt", dest, sha256="0" * 64)
    assert not dest.exists() and not dest.with_name("f.txt.part").exists()


def test_download_records_first_checksum_and_redownloads_corrupt_cache(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"original")
    dest = tmp_path / "cache" / "f.txt"
    data.download(f"{base}/f.txt", dest)
    assert dest.with_name("f.txt.sha256").read_text().strip() == hashlib.sha256(b"original").hexdigest()
    dest.write_bytes(b"corrupted on disk")
    assert data.download(f"{base}/f.txt", dest).read_bytes() == b"original"


def test_download_restarts_a_partial_file_when_server_cannot_resume(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"0123456789")
    dest = tmp_path / "f.txt"
    dest.with_name("f.txt.part").write_bytes(b"01234")  # an interrupted earlier run
    data.download(f"{base}/f.txt", dest, sha256=hashlib.sha256(b"0123456789").hexdigest())
    assert dest.read_bytes() == b"0123456789"


def test_download_resumes_a_partial_file(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"0123456789")
    dest = tmp_path / "f.txt"
    dest.with_name("f.txt.part").write_bytes(b"01234")
    data.download(f"{base}/ranged/f.txt", dest, sha256=hashlib.sha256(b"0123456789").hexdigest())
    assert dest.read_bytes() == b"0123456789"


def test_download_starts_over_when_partial_file_is_already_complete(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"0123456789")
    dest = tmp_path / "f.txt"
    dest.with_name("f.txt.part").write_bytes(b"0123456789")  # killed before the checksum step
    data.download(f"{base}/ranged/f.txt", dest, sha256=hashlib.sha256(b"0123456789").hexdigest())
    assert dest.read_bytes() == b"0123456789"


def test_download_http_error_names_url_and_path(server, tmp_path):
    _, base = server
    dest = tmp_path / "cache" / "missing.txt"
    with pytest.raises(ConnectionError, match=r"missing.txt \(HTTP Error 404.*put it at .*missing.txt"):
        data.download(f"{base}/missing.txt", dest)


def test_download_offline_names_url_and_path(tmp_path):
    dest = tmp_path / "cache" / "ratings_train.txt"
    url = "http://127.0.0.1:9/ratings_train.txt"  # nothing listens on port 9
    with pytest.raises(ConnectionError) as info:
        data.download(url, dest)
    assert url in str(info.value) and str(dest) in str(info.value)
    assert not dest.exists()


def test_download_pins_by_git_blob_id(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"hello\n")   # `git hash-object` gives ce0136...
    dest = tmp_path / "cache" / "f.txt"
    data.download(f"{base}/f.txt", dest, git_blob="ce013625030ba8dba906f756967f9e9ca394464a")
    assert dest.with_name("f.txt.sha256").read_text().strip() == hashlib.sha256(b"hello\n").hexdigest()
    with pytest.raises(ValueError, match="expected git blob id 0{40}, got ce0136.*removed"):
        data.download(f"{base}/f.txt", tmp_path / "other" / "f.txt", git_blob="0" * 40)
    assert not (tmp_path / "other" / "f.txt").exists()


def test_download_rejects_a_file_that_fails_the_format_check(server, tmp_path):
    www, base = server
    (www / "ratings_train.txt").write_text("<!DOCTYPE html><title>Rate limited</title>\n")
    dest = tmp_path / "cache" / "ratings_train.txt"
    with pytest.raises(ValueError) as info:
        data.download(f"{base}/ratings_train.txt", dest, check=data.nsmc_problem)
    message = str(info.value)
    assert "found an HTML page" in message and "removed" in message and str(dest) in message
    assert not dest.exists() and not dest.with_name("ratings_train.txt.part").exists()
    assert not dest.with_name("ratings_train.txt.sha256").exists()


def test_a_damaged_download_is_downloaded_again(server, tmp_path, capsys):
    www, base = server
    (www / "r.txt").write_text(HEADER + "1\t좋다\t1\n", encoding="utf-8")
    dest = tmp_path / "r.txt"
    data.download(f"{base}/r.txt", dest, check=data.nsmc_problem)
    dest.write_text(HEADER + "1\t좋다\t1\n2\t잘", encoding="utf-8")  # damaged on disk after the download
    assert data.download(f"{base}/r.txt", dest, check=data.nsmc_problem).read_text(encoding="utf-8").endswith("좋다\t1\n")
    assert "is damaged" in capsys.readouterr().out


@pytest.mark.parametrize("pin", [{"check": data.nsmc_problem},
                                 {"sha256": hashlib.sha256(b"the real file").hexdigest()},
                                 {"git_blob": "0" * 40}])
def test_a_file_placed_by_hand_is_never_deleted(server, tmp_path, pin):
    www, base = server
    (www / "r.txt").write_text(HEADER + "1\t좋다\t1\n", encoding="utf-8")
    dest = tmp_path / "r.txt"
    dest.write_text(HEADER + "1\t좋다\t1\n2\t잘", encoding="utf-8")  # placed by hand, cut off
    with pytest.raises(ValueError) as error:
        data.download(f"{base}/r.txt", dest, **pin)
    message = str(error.value)
    assert str(dest) in message and "left in place" in message and f"{base}/r.txt" in message
    if "sha256" in pin:  # both checksums, to compare with the published one
        assert pin["sha256"] in message and hashlib.sha256(dest.read_bytes()).hexdigest() in message
    assert dest.read_text(encoding="utf-8").endswith("2\t잘")  # still there, untouched


def test_a_pinned_checksum_wins_over_the_recorded_one(server, tmp_path):
    www, base = server
    (www / "f.txt").write_bytes(b"hello\n")   # git blob ce0136...
    dest = tmp_path / "f.txt"
    dest.write_bytes(b"not the pinned file\n")  # with a record of its own checksum (trust on first use)
    dest.with_name("f.txt.sha256").write_text(hashlib.sha256(b"not the pinned file\n").hexdigest())
    data.download(f"{base}/f.txt", dest, git_blob="ce013625030ba8dba906f756967f9e9ca394464a")
    assert dest.read_bytes() == b"hello\n"


def test_a_response_shorter_than_its_content_length_is_a_failed_download_kept_for_resume(server, tmp_path):
    www, base = server
    (www / "r.txt").write_text(HEADER + "1\t좋다\t1\n", encoding="utf-8")  # whole lines: the format check passes
    dest = tmp_path / "cache" / "r.txt"
    with pytest.raises(ConnectionError, match=r"stopped after \d+ of \d+ bytes.*kept in .*r\.txt\.part.*run again"):
        data.download(f"{base}/short/r.txt", dest, check=data.nsmc_problem)
    assert not dest.exists() and not dest.with_name("r.txt.sha256").exists()
    assert dest.with_name("r.txt.part").read_text(encoding="utf-8") == HEADER + "1\t좋다\t1\n"


def test_download_into_a_folder_says_so_and_leaves_nothing(server, tmp_path):
    _, base = server
    folder = tmp_path / "cache" / "nsmc"
    folder.mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=r"nsmc is a folder.*e\.g\. .*nsmc/r\.txt"):
        data.download(f"{base}/r.txt", folder)
    assert list(folder.parent.iterdir()) == [folder] and not list(folder.iterdir())  # no stray .part


# --- files a reader gets wrong ------------------------------------------------------------

def test_a_file_that_is_not_utf8_names_the_line_and_the_cp949_fix(tmp_path):
    path = tmp_path / "ratings_train.txt"
    path.write_bytes((HEADER + "1\tgood\t1\n2\t재미있어요\t1\n").encode("cp949"))  # as Excel saves Korean
    with pytest.raises(ValueError) as error:
        data.read_nsmc(path)
    message = str(error.value)
    assert str(path) in message and "not UTF-8 text (line 3" in message and "CP949" in message
    assert "iconv -f cp949 -t utf-8 ratings_train.txt" in message


def test_a_folder_given_as_a_file_says_so(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a folder; give the path of the NSMC file inside it"):
        data.read_nsmc(tmp_path)


def test_read_imdb_skips_and_counts_files_not_named_id_rating_and_drops_empty_reviews(tmp_path, capsys):
    root = make_imdb(tmp_path)
    (root / "train/pos/notes.txt").write_text("not a review", encoding="utf-8")
    (root / "train/neg/3_2.txt").write_text("  <br />  ", encoding="utf-8")   # empty once cleaned
    frame = data.read_imdb(root, "train")
    assert len(frame) == 4 and "not a review" not in frame["text"].tolist()
    assert frame.attrs["dropped_empty"] == 1
    out = capsys.readouterr().out
    assert "skipped 1 .txt files not named ID_RATING.txt" in out and "notes.txt" in out
    assert "dropped 1 rows with an empty text" in out
    (root / "train/neg/4_1.txt").write_bytes("별로예요".encode("cp949"))
    with pytest.raises(ValueError, match=r"4_1\.txt is not UTF-8 text \(line 1"):
        data.read_imdb(root, "train")
