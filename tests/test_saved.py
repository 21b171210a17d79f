"""utils.saved: a chapter's #@save cells, loaded from the chapter's own file."""
import traceback

import pytest

from utils import saved

CHAPTER = '''\
# A chapter

```{code-cell} ipython3
#@save
def double(x):
    return 2 * x
```

Prose between cells.

```{code-cell} ipython3
---
tags: [hide-input]
---
print("not saved, never run by the loader")
raise SystemExit
```

```{code-cell} ipython3
#@save
def broken():
    return 1 / 0
```
'''


@pytest.fixture
def book(tmp_path, monkeypatch):
    (tmp_path / "90_demo.md").write_text(CHAPTER, encoding="utf-8")
    (tmp_path / "91_plain.md").write_text("```{code-cell} ipython3\nx = 1\n```\n", encoding="utf-8")
    monkeypatch.setattr(saved, "BOOK", tmp_path)
    saved.chapter_code.cache_clear()
    yield tmp_path
    saved.chapter_code.cache_clear()


def test_only_marked_cells_are_run_in_order(book):
    demo = saved.chapter_code("90_demo")
    assert demo.double(21) == 42
    assert [line for line, _ in saved.saved_cells("90_demo")] == [4, 20]


def test_a_traceback_names_the_chapter_file_and_line(book):
    with pytest.raises(ZeroDivisionError) as error:
        saved.chapter_code("90_demo").broken()
    frame = traceback.extract_tb(error.tb)[-1]
    assert (frame.filename, frame.lineno) == (str(book / "90_demo.md"), 22)
    assert CHAPTER.splitlines()[frame.lineno - 1].strip() == "return 1 / 0"


def test_unknown_chapter_and_unmarked_chapter_are_clear_errors(book):
    with pytest.raises(FileNotFoundError, match="the chapters are: 90_demo, 91_plain"):
        saved.chapter_code("12_pretrain")
    with pytest.raises(ValueError, match="no code cell starting with #@save"):
        saved.chapter_code("91_plain")


@pytest.mark.parametrize("chapter, names", [
    ("12_pretraining", ["mask_tokens", "next_sentence_pairs"]),
    pytest.param("40_hate_speech", ["FocalLoss"], marks=pytest.mark.torch),
    ("60_prediction_gluon", ["predict_probabilities", "export_classifier", "load_exported"]),
    pytest.param("60_prediction_pytorch", ["to_transformers", "model_card", "export_for_transformers",
                                           "from_transformers"], marks=pytest.mark.torch),
    pytest.param("61_explaining_pytorch", ["token_attributions", "cls_attention", "expected_calibration_error",
                                           "fit_temperature", "explain"], marks=pytest.mark.torch),
])
def test_the_books_saved_cells_define_what_the_tests_load(chapter, names):
    module = saved.chapter_code(chapter)
    assert all(callable(getattr(module, name)) for name in names)
