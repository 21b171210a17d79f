import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils.plots import length_histogram, use_korean_font  # noqa: E402


def test_korean_font_is_found():
    # CI installs fonts-noto-cjk (scripts/browser_deps.sh); without it Hangul renders as boxes.
    name = use_korean_font()
    assert name is not None and plt.rcParams["font.family"] == [name]


def test_length_histogram_draws_one_series_per_class():
    fig, ax = plt.subplots()
    length_histogram(ax, [[1, 2, 2, 3], [5, 6, 6, 9]], title="NSMC")
    assert len(ax.get_legend().get_texts()) == 2 and ax.get_title() == "NSMC"
    assert sum(patch.get_height() for patch in ax.patches) == 8
    plt.close(fig)
