"""utils.prediction.write_predictions: a text file classified chunk by chunk into a CSV."""
import csv
import tracemalloc

import numpy as np
import pytest

from utils.prediction import write_predictions

LABELS = ["negative", "positive"]


def by_keyword(texts):
    """A stand-in model: 'good' in a text -> positive with 0.9, else negative with 0.8."""
    positive = np.array([0.9 if "good" in text else 0.2 for text in texts])
    return np.stack([1 - positive, positive], axis=1)                      # (texts, 2)


def rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_rows_keep_line_numbers_across_chunks(tmp_path):
    texts = [f"review {i} is {'good' if i % 3 else 'dull'}" for i in range(10)]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    assert write_predictions(by_keyword, tmp_path / "in.txt", tmp_path / "out.csv", LABELS, chunk_size=3) == 10
    header, *body = rows(tmp_path / "out.csv")
    assert header == ["line", "label", *LABELS]
    assert [int(r[0]) for r in body] == list(range(1, 11))
    assert [r[1] for r in body] == ["positive" if i % 3 else "negative" for i in range(10)]
    assert np.allclose([[float(p) for p in r[2:]] for r in body], by_keyword(texts))
    assert not (tmp_path / "out.csv.part").exists()


def peak_bytes(tmp_path, lines):
    source = tmp_path / f"{lines}.txt"
    source.write_text("a good enough review of some length\n" * lines, encoding="utf-8")
    tracemalloc.start()
    write_predictions(by_keyword, source, tmp_path / f"{lines}.csv", LABELS, chunk_size=500)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_holds_one_chunk_whatever_the_file_size(tmp_path):
    small, large = peak_bytes(tmp_path, 2_000), peak_bytes(tmp_path, 40_000)
    assert large < 1.5 * small, (small, large)  # twenty times the lines, about the same peak


def test_a_blank_line_is_named_and_nothing_is_left_behind(tmp_path):
    (tmp_path / "in.txt").write_text("good one\nfine\n\nbad\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"in.txt, line 3 is blank"):
        write_predictions(by_keyword, tmp_path / "in.txt", tmp_path / "out.csv", LABELS, chunk_size=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_a_line_that_is_not_utf8_is_named_with_the_fix(tmp_path):
    lines = ["정말 좋은 영화", "지루했어요", "배우가 좋았다"]
    source = tmp_path / "in.txt"
    source.write_bytes(("\n".join(lines[:2]) + "\n").encode("utf-8") + (lines[2] + "\n").encode("cp949"))
    with pytest.raises(ValueError, match=r"in.txt, line 3 is not UTF-8 .*encoding='cp949'") as error:
        write_predictions(by_keyword, source, tmp_path / "out.csv", LABELS, chunk_size=2)
    assert error.value.__suppress_context__                                 # no decoder traceback above it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]
    source.write_bytes(("\n".join(lines) + "\n").encode("cp949"))           # a whole file saved as CP949
    with pytest.raises(ValueError, match="line 1 is not UTF-8"):
        write_predictions(by_keyword, source, tmp_path / "out.csv", LABELS)
    seen = []
    source.write_text(source.read_text(encoding="cp949"), encoding="utf-8")  # the message's conversion
    assert write_predictions(lambda t: seen.extend(t) or by_keyword(t), source, tmp_path / "out.csv", LABELS) == 3
    assert seen == lines


def test_a_byte_order_mark_is_not_part_of_the_first_text(tmp_path):
    seen = []
    (tmp_path / "in.txt").write_text("good start\r\nthen dull\r\n", encoding="utf-8-sig")   # as Excel saves it
    write_predictions(lambda texts: seen.extend(texts) or by_keyword(texts), tmp_path / "in.txt",
                      tmp_path / "out.csv", LABELS)
    assert seen == ["good start", "then dull"]


def test_a_missing_file_and_a_bad_chunk_size_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="one text per line"):
        write_predictions(by_keyword, tmp_path / "none.txt", tmp_path / "out.csv", LABELS)
    (tmp_path / "in.txt").write_text("good\n", encoding="utf-8")
    with pytest.raises(ValueError, match="chunk_size=0"):
        write_predictions(by_keyword, tmp_path / "in.txt", tmp_path / "out.csv", LABELS, chunk_size=0)


def test_prediction_shows_a_progress_bar_only_for_many_batches(monkeypatch):
    from utils.prediction import PROGRESS_FROM_BATCHES, batch_progress

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    few, many = (batch_progress(range(n), n) for n in (PROGRESS_FROM_BATCHES, PROGRESS_FROM_BATCHES + 1))
    assert few.disable and not many.disable and list(many) == list(range(PROGRESS_FROM_BATCHES + 1))
