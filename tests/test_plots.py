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
