import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils.plots import KOREAN_FONT, length_histogram, use_korean_font  # noqa: E402


def test_hangul_is_drawn_with_the_pip_font_and_no_glyph_is_missing(tmp_path):
    # NanumGothic comes from the pip package koreanize-matplotlib, so no system font is needed.
    assert use_korean_font() == KOREAN_FONT and plt.rcParams["font.family"] == [KOREAN_FONT]
    fig, ax = plt.subplots()
    ax.set_title("긍정 리뷰와 부정 리뷰 -1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        fig.savefig(tmp_path / "hangul.png")
    plt.close(fig)


def test_without_a_korean_font_hangul_would_warn(tmp_path):
    # the check above can fail: the same drawing in a font without Hangul warns about glyphs
    fig, ax = plt.subplots()
    ax.set_title("긍정", fontfamily="DejaVu Sans")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "boxes.png")
    plt.close(fig)
    assert any("missing from font" in str(w.message) for w in caught)


def test_length_histogram_draws_one_series_per_class():
    fig, ax = plt.subplots()
    length_histogram(ax, [[1, 2, 2, 3], [5, 6, 6, 9]], title="NSMC")
    assert len(ax.get_legend().get_texts()) == 2 and ax.get_title() == "NSMC"
    assert sum(patch.get_height() for patch in ax.patches) == 8
    plt.close(fig)


def test_labels_follow_the_book_language(monkeypatch):
    import re

    from utils.plots import plot_history
    history = {"epoch": [1, 2], "train_loss": [0.7, 0.5], "valid_loss": [0.6, 0.55],
               "train_acc": [0.5, 0.7], "valid_acc": [0.55, 0.6], "best_epoch": 2}
    for lang, expected in (("en", "reviews"), ("ko", "리뷰 수")):
        monkeypatch.setenv("BOOK_LANG", lang)
        fig, ax = plt.subplots()
        length_histogram(ax, [[1, 2], [3, 4]])
        axes = plot_history(history)
        labels = [ax.get_ylabel(), *[t.get_text() for t in ax.get_legend().get_texts()],
                  *[a.get_xlabel() for a in axes], *[t.get_text() for t in axes[0].get_legend().get_texts()]]
        assert ax.get_ylabel() == expected
        hangul = [label for label in labels if re.search("[\uac00-\ud7a3]", label)]
        assert (hangul == labels) if lang == "ko" else not hangul, labels
        plt.close("all")
