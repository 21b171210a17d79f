import hashlib
import http.server
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


def test_load_in_smoke_mode_reads_the_bundled_samples():
    nsmc = data.load_nsmc("test")
    imdb = data.load_imdb("test")
    assert len(nsmc) >= 100 and set(nsmc["label"]) == {0, 1}
    assert len(imdb) >= 100 and set(imdb["label"]) == {0, 1}
    with pytest.raises(ValueError, match="split"):
        data.load_nsmc("valid")


def test_load_in_full_mode_uses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_MODE", "full")
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path))
    cached = tmp_path / "nsmc" / "ratings_test.txt"
    cached.parent.mkdir()
    cached.write_text(HEADER + "1\t캐시에서 읽음\t1\n", encoding="utf-8")
    assert data.load_nsmc("test")["text"].tolist() == ["캐시에서 읽음"]


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
    with pytest.raises(ValueError, match="Checksum mismatch.*removed"):
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
