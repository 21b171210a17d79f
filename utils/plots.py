"""Every figure the book draws: one place for fonts, styles and plot helpers."""
import matplotlib.pyplot as plt
from matplotlib import font_manager

_KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans CJK JP", "NanumGothic", "Malgun Gothic",
                 "AppleGothic", "Noto Sans KR")


def use_korean_font():
    """Make matplotlib draw Hangul with the first Korean-capable font installed; return its name.

    Returns None (and Hangul shows as boxes) when none is installed: on Colab run
    ``!apt-get -qq install fonts-nanum`` and restart, on Debian/Ubuntu install fonts-noto-cjk.
    """
    for rescan in (False, True):  # a font installed after matplotlib cached its list needs a rescan
        if rescan:
            font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        installed = {font.name for font in font_manager.fontManager.ttflist}
        for name in _KOREAN_FONTS:
            if name in installed:
                plt.rcParams["font.family"] = [name]
                plt.rcParams["axes.unicode_minus"] = False
                return name
    return None


def length_histogram(ax, lengths, labels=("부정 / negative", "긍정 / positive"), bins=30,
                     xlabel="길이 / length", title=None):
    """Overlay one histogram per class; ``lengths`` is a sequence of per-class length lists."""
    for class_lengths, label in zip(lengths, labels):
        ax.hist(class_lengths, bins=bins, alpha=0.6, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("리뷰 수 / reviews")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
