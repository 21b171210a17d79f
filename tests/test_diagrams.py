"""Each Part I diagram draws without missing glyphs, in the language of the edition."""
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils import diagrams  # noqa: E402

HANGUL = re.compile("[\uac00-\ud7a3]")
EXPECTED = {  # function: (a Korean label, an English label)
    "input_representation": ("세그먼트 임베딩", "segment embeddings"),
    "encoder_layer": ("더하고 정규화하기", "add & norm"),
    "pretraining_heads": ("이어짐 / 안 이어짐", "IsNext / NotNext"),
    "finetuning_head": ("드롭아웃", "dropout"),
}


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_diagram_draws_in_the_book_language(name, lang, monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_LANG", lang)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        fig = getattr(diagrams, name)()
        fig.savefig(tmp_path / f"{name}.png")
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    plt.close(fig)
    korean, english = EXPECTED[name]
    assert (korean if lang == "ko" else english) in "\n".join(texts), texts
    hangul = [text for text in texts if HANGUL.search(text)]
    assert hangul if lang == "ko" else not hangul, hangul


def test_every_diagram_is_tested():
    public = {name for name, value in vars(diagrams).items()
              if callable(value) and not name.startswith("_") and value.__module__ == diagrams.__name__}
    assert public == set(EXPECTED)
