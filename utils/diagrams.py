"""Diagrams of BERT for Part I, drawn with plain matplotlib: boxes, arrows and text.

Every function draws one figure and returns it. Labels come from ``in_book_lang``, so each
edition's diagram is in its own language (BOOK_LANG); importing ``utils.plots`` registers the
Hangul font.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, Rectangle

from utils.env import in_book_lang
from utils.plots import use_korean_font

COLORS = {"token": "#fde9b6", "A": "#cfe3f7", "B": "#d5efd0", "position": "#e6ddf3",
          "block": "#f4f4f4", "head": "#fbd9cc", "loss": "#f6b26b", "ignored": "#eeeeee"}


def _canvas(width, height, inches_per_unit=0.62):
    """A figure whose axes run from 0 to width and 0 to height in data units, with no frame."""
    use_korean_font()
    fig, ax = plt.subplots(figsize=(width * inches_per_unit, height * inches_per_unit))
    ax.set_xlim(0, width), ax.set_ylim(0, height), ax.set_aspect("equal"), ax.axis("off")
    return fig, ax


def _box(ax, x, y, w, h, text, color="white", size=10, **text_kw):
    """A rounded box centred at (x, y) with its text in the middle."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12",
                                facecolor=color, edgecolor="#444444", linewidth=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, **text_kw)


def _arrow(ax, start, end, color="#444444", **kw):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.2,
                                                          shrinkA=0, shrinkB=0, **kw))


def input_representation():
    """BERT's input for a sentence pair: token + segment + position embeddings, summed."""
    tokens = in_book_lang(["[CLS]", "영화", "가", "좋", "았다", "[SEP]", "또", "보고", "싶다", "[SEP]"],
                          ["[CLS]", "my", "dog", "is", "cute", "[SEP]", "he", "likes", "play", "##ing", "[SEP]"])
    second = tokens.index("[SEP]") + 1                      # sentence B starts after the first [SEP]
    fig, ax = _canvas(4.4 + 1.15 * len(tokens), 6.6)
    rows = in_book_lang(["입력", "토큰 임베딩", "세그먼트 임베딩", "위치 임베딩"],
                        ["input", "token embeddings", "segment embeddings", "position embeddings"])
    for label, y in zip(rows, (5.6, 4.2, 2.8, 1.4)):
        ax.text(3.9, y, label, ha="right", va="center", fontsize=11)
    for i, token in enumerate(tokens):
        x, segment = 4.7 + 1.15 * i, "A" if i < second else "B"
        _box(ax, x, 5.6, 1.0, 0.7, token, size=10, fontweight="bold" if token.startswith("[") else None)
        for y, color, sub in ((4.2, COLORS["token"], token), (2.8, COLORS[segment], segment),
                              (1.4, COLORS["position"], str(i))):
            _box(ax, x, y, 1.0, 0.7, "", color)
            ax.text(x - 0.06, y, "E", ha="right", va="center", fontsize=11)     # E with a subscript
            ax.text(x - 0.04, y - 0.1, sub, ha="left", va="center", fontsize=8)
        for y in (3.5, 2.1):
            ax.text(x, y, "+", ha="center", va="center", fontsize=13)
    ax.text(4.2, 0.35, in_book_lang("세 벡터를 위치마다 더한 뒤 층 정규화와 드롭아웃을 거쳐 인코더의 첫 층에 들어갑니다.",
                                    "Summed at each position, then layer normalization and dropout, "
                                    "the vectors enter the encoder's first layer."), fontsize=10, va="center")
    return fig


def encoder_layer():
    """One encoder layer (attention, add & norm, feed-forward, add & norm), stacked N times."""
    fig, ax = _canvas(9, 10.6)
    ax.add_patch(Rectangle((1.2, 1.75), 6.9, 6.5, facecolor=COLORS["block"], edgecolor="#888888",
                           linestyle="--"))
    ax.text(1.0, 5.0, in_book_lang("N번\n반복", "× N"), ha="right", va="center", fontsize=12)
    boxes = in_book_lang(["멀티헤드 셀프 어텐션", "더하고 정규화하기", "피드포워드 신경망", "더하고 정규화하기"],
                         ["multi-head self-attention", "add & norm", "feed-forward network", "add & norm"])
    ys = (2.9, 4.3, 5.7, 7.1)
    colors = ("#cfe3f7", "#fde9b6", "#d5efd0", "#fde9b6")
    _box(ax, 4.5, 0.6, 6.6, 0.7, in_book_lang("입력: 임베딩의 합 (batch, seq_len, H)",
                                             "input: summed embeddings (batch, seq_len, H)"), "white", 10)
    _box(ax, 4.5, 9.6, 6.6, 0.7, in_book_lang("출력: 은닉 상태 (batch, seq_len, H)",
                                             "output: hidden states (batch, seq_len, H)"), "white", 10)
    for text, y, color in zip(boxes, ys, colors):
        _box(ax, 4.5, y, 4.6, 0.75, text, color, 11)
    for start, end in ((0.95, ys[0] - 0.375), *((a + 0.375, b - 0.375) for a, b in zip(ys, ys[1:])),
                       (ys[-1] + 0.375, 9.25)):
        _arrow(ax, (4.5, start), (4.5, end))
    for below, norm_y in ((1.95, ys[1]), (ys[1] + 0.55, ys[3])):     # residual connections
        ax.plot([4.5, 7.35, 7.35], [below, below, norm_y], color="#c0504d", lw=1.2)
        _arrow(ax, (7.35, norm_y), (6.8, norm_y), color="#c0504d")
    ax.text(7.75, 3.6, in_book_lang("잔차 연결", "residual"), color="#c0504d", fontsize=9, rotation=90, va="center")
    return fig


def pretraining_heads():
    """The MLM head scores every position (the loss counts masked ones only); NSP reads [CLS]."""
    tokens = ["[CLS]", "my", "dog", "[MASK]", "cute", "[SEP]", "he", "likes", "[MASK]", "[SEP]"]
    masked = {3: "is", 8: "play"}
    fig, ax = _canvas(5.2 + 1.15 * len(tokens), 8.2)
    xs = [5.6 + 1.15 * i for i in range(len(tokens))]
    for x, token in zip(xs, tokens):
        _box(ax, x, 0.6, 1.05, 0.65, token, "white", 8.5)
        _arrow(ax, (x, 0.95), (x, 1.5))
        _box(ax, x, 3.0, 1.05, 0.65, "h", "#e6ddf3", 11)
        _arrow(ax, (x, 3.35), (x, 4.0))
    _box(ax, (xs[0] + xs[-1]) / 2, 2.0, xs[-1] - xs[0] + 1.05, 0.8, in_book_lang("BERT 인코더", "BERT encoder"),
         COLORS["block"], 11)
    _box(ax, (xs[0] + xs[-1]) / 2, 4.5, xs[-1] - xs[0] + 1.05, 0.9, in_book_lang(
        "MLM 헤드\n완전 연결 층, GELU, 층 정규화, 디코더(토큰 임베딩과 가중치를 함께 씀)",
        "MLM head\ndense, GELU, LayerNorm, decoder (weights tied to the token embeddings)"), COLORS["head"], 10)
    for i, x in enumerate(xs):
        _arrow(ax, (x, 4.95), (x, 5.6))
        _box(ax, x, 6.0, 1.05, 0.75, in_book_lang("어휘\n점수", "vocab\nscores"),
             COLORS["loss"] if i in masked else COLORS["ignored"], 8)
        ax.text(x, 6.75, f"= {masked[i]}?" if i in masked else "", ha="center", fontsize=9, fontweight="bold")
    ax.text(xs[-1] + 0.55, 7.6, in_book_lang("주황색 자리(가린 토큰)만 손실에 들어가고, 회색 자리는 레이블 -100으로 빠집니다.",
                                             "Only the orange (masked) positions count in the loss; "
                                             "the grey ones have label -100."), ha="right", fontsize=10)
    _arrow(ax, (xs[0] - 0.55, 3.0), (3.7, 3.0))                     # [CLS] -> pooler -> NSP
    _box(ax, 2.25, 3.0, 2.9, 0.8, in_book_lang("풀러\n완전 연결 층 + tanh", "pooler\ndense + tanh"), "#cfe3f7", 9)
    _arrow(ax, (2.25, 3.4), (2.25, 4.1))
    _box(ax, 2.25, 4.5, 2.9, 0.8, in_book_lang("NSP 헤드\n완전 연결 층", "NSP head\ndense"), COLORS["head"], 9)
    _arrow(ax, (2.25, 4.9), (2.25, 5.6))
    _box(ax, 2.25, 6.0, 2.9, 0.75, in_book_lang("이어짐 / 안 이어짐", "IsNext / NotNext"), COLORS["loss"], 9)
    return fig


def finetuning_head():
    """The classifier used for fine-tuning: pooled [CLS] -> dropout -> dense -> class logits."""
    fig, ax = _canvas(17, 2.6)
    steps = in_book_lang(["BERT의 [CLS]\n은닉 상태", "풀러\n완전 연결 층 + tanh", "드롭아웃", "완전 연결 층\n가중치 H × C",
                          "클래스 로짓 C개\n(부정, 긍정)"],
                         ["BERT's [CLS]\nhidden state", "pooler\ndense + tanh", "dropout", "dense\nweights H × C",
                          "C class logits\n(negative, positive)"])
    colors = ("#e6ddf3", "#cfe3f7", COLORS["block"], COLORS["head"], COLORS["loss"])
    xs = [1.7 + 3.4 * i for i in range(len(steps))]
    for x, text, color in zip(xs, steps, colors):
        _box(ax, x, 1.5, 2.7, 1.1, text, color, 10)
    for a, b in zip(xs, xs[1:]):
        _arrow(ax, (a + 1.35, 1.5), (b - 1.35, 1.5))
    ax.plot([xs[1] + 1.7] * 2, [0.1, 2.5], color="#888888", linestyle="--", lw=1)
    ax.text(xs[1] + 1.5, 0.35, in_book_lang("사전 학습된 몸통", "pretrained body"), ha="right", fontsize=10, color="#555555")
    ax.text(xs[1] + 1.9, 0.35, in_book_lang("미세 조정 때 새로 붙이는 헤드", "new head, added for fine-tuning"),
            ha="left", fontsize=10, color="#555555")
    return fig
