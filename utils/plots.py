"""Every figure the book draws: one place for fonts, styles and plot helpers.

Importing this module makes matplotlib draw Hangul with NanumGothic, which the pip package
``koreanize-matplotlib`` ships: the same font on Colab (which has no Korean font), on a fresh
``make book`` and in CI, with no apt and no runtime restart.
"""
import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager

from utils.env import in_book_lang

KOREAN_FONT = "NanumGothic"


def _font_files():
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None:
        raise ModuleNotFoundError(
            "Hangul in plots needs the font package koreanize-matplotlib: run "
            "`pip install koreanize-matplotlib` (requirements.txt lists it), then run this cell again.")
    return sorted((Path(spec.origin).parent / "fonts").glob("*.ttf"))


def use_korean_font():
    """Register NanumGothic with matplotlib (at run time, no restart) and draw with it; return its name."""
    known = {font.fname for font in font_manager.fontManager.ttflist}
    for path in _font_files():
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))
    plt.rcParams["font.family"] = [KOREAN_FONT]
    plt.rcParams["axes.unicode_minus"] = False  # NanumGothic has no U+2212 minus sign
    return KOREAN_FONT


use_korean_font()


def length_histogram(ax, lengths, labels=None, bins=30, xlabel=None, title=None):
    """Overlay one histogram per class; ``lengths`` is a sequence of per-class length lists.
    Labels default to negative / positive in the book's language (BOOK_LANG)."""
    labels = labels or in_book_lang(("부정", "긍정"), ("negative", "positive"))
    for class_lengths, label in zip(lengths, labels):
        ax.hist(class_lengths, bins=bins, alpha=0.6, label=label)
    ax.set_xlabel(xlabel or in_book_lang("길이", "length"))
    ax.set_ylabel(in_book_lang("리뷰 수", "reviews"))
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_history(history, axes=None, title=None):
    """Loss and accuracy per epoch (train and validation) side by side; the best epoch marked.

    ``history`` is what ``train_loop`` returns (utils.pytorch or utils.gluon).
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = history["epoch"]
    names = {"loss": in_book_lang("손실", "loss"), "acc": in_book_lang("정확도", "accuracy")}
    for ax, metric in ((axes[0], "loss"), (axes[1], "acc")):
        ax.plot(epochs, history[f"train_{metric}"], "o-", label=in_book_lang("학습", "train"))
        ax.plot(epochs, history[f"valid_{metric}"], "s-", label=in_book_lang("검증", "validation"))
        if history.get("best_epoch"):
            ax.axvline(history["best_epoch"], color="gray", linestyle=":", label=in_book_lang("최고", "best"))
        ax.set_xlabel(in_book_lang("에폭", "epoch"))
        ax.set_ylabel(names[metric])
        ax.set_xticks(epochs)
        ax.legend()
    if title:
        axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes


def plot_lr_schedules(ax, schedules, xlabel=None):
    """Draw learning-rate curves; ``schedules`` maps a legend label to a list of rates."""
    for label, rates in schedules.items():
        ax.plot(range(len(rates)), rates, label=label)
    ax.set_xlabel(xlabel or in_book_lang("옵티마이저 스텝", "optimizer step"))
    ax.set_ylabel(in_book_lang("학습률", "learning rate"))
    ax.legend()
    return ax


def plot_confusion_matrix(ax, true_labels, predicted_labels, class_names):
    """A confusion-matrix heatmap: rows are the true classes, columns the predicted ones.

    Labels may be class indices or class names. Each cell shows its count and the share of
    its row (of the reviews of that true class, how many got this prediction).
    """
    import numpy as np

    index = {name: i for i, name in enumerate(class_names)}
    to_index = lambda label: index[label] if label in index else int(label)  # noqa: E731
    counts = np.zeros((len(class_names), len(class_names)), dtype=int)
    for true, predicted in zip(true_labels, predicted_labels):
        counts[to_index(true), to_index(predicted)] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(counts):
        ax.text(col, row, f"{count}\n{shares[row, col]:.0%}", ha="center", va="center",
                color="white" if shares[row, col] > 0.6 else "black")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel(in_book_lang("예측", "predicted"))
    ax.set_ylabel(in_book_lang("정답", "true"))
    return counts


def plot_reliability(ax, bins, title=None):
    """A reliability diagram: per confidence bin, the accuracy (bars) against the mean confidence.

    ``bins`` is a table (e.g. a pandas DataFrame) with one row per equal-width bin and the
    columns ``lower``, ``upper`` (the bin's edges), ``count``, ``confidence`` (mean top-class
    probability in the bin) and ``accuracy``. Empty bins are left out. A calibrated model's
    bars reach the diagonal; the hatched part of each bar is its gap to it.
    """
    filled = [row for _, row in bins.iterrows() if row["count"] > 0]
    lower = [row["lower"] for row in filled]
    width = [row["upper"] - row["lower"] for row in filled]
    accuracy = [row["accuracy"] for row in filled]
    gap = [row["confidence"] - row["accuracy"] for row in filled]
    ax.bar(lower, accuracy, width=width, align="edge", edgecolor="black", color="tab:blue",
           label=in_book_lang("정확도", "accuracy"))
    ax.bar(lower, gap, bottom=accuracy, width=width, align="edge", edgecolor="tab:red", color="none",
           hatch="//", label=in_book_lang("신뢰도와의 차이", "gap to confidence"))
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label=in_book_lang("완벽한 보정", "perfect calibration"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(in_book_lang("신뢰도 (가장 높은 확률)", "confidence (top probability)"))
    ax.set_ylabel(in_book_lang("정확도", "accuracy"))
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return ax
