"""Chapter 61 (explaining a classifier): its #@save functions and the hand-written probe sets."""
import csv
import os
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBES = ROOT / "data" / "probes"
CATEGORIES = {"ko": {"negation", "sarcasm", "mixed", "emoji", "spacing"},
              "en": {"negation", "sarcasm", "mixed", "emoji", "spelling"}}
HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")


def chapter():
    from utils.saved import chapter_code

    return chapter_code("61_explaining_pytorch")


# ---------------------------------------------------------------------------- probe files

@pytest.mark.parametrize("lang", ["ko", "en"])
def test_probe_file_format(lang):
    raw = (PROBES / f"{lang}.tsv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw, "UTF-8 without BOM, LF line ends"
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == "", "the file ends with a line break"
    lines = lines[:-1]
    assert lines[0] == "category\ttext\tlabel"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 3 for row in rows), [row for row in rows if len(row) != 3]
    assert {category for category, _, _ in rows} == CATEGORIES[lang]
    assert all(label in ("0", "1") for _, _, label in rows)
    texts = [text for _, text, _ in rows]
    assert all(text.strip() == text and text for text in texts), "no empty text, no surrounding blanks"
    assert len(set(texts)) == len(texts), "no sentence twice"
    for category in CATEGORIES[lang]:
        in_category = [(text, label) for c, text, label in rows if c == category]
        assert 6 <= len(in_category) <= 10, (category, len(in_category))
    assert {label for _, _, label in rows} == {"0", "1"}
    assert sum(label == "1" for _, _, label in rows) >= len(rows) // 4, "both labels well represented"
    # The Korean set is Korean, the English set English.
    assert all(HANGUL.search(text) for text in texts) if lang == "ko" else not any(HANGUL.search(t) for t in texts)


def test_probe_readme_is_bilingual():
    readme = (PROBES / "README.md").read_text(encoding="utf-8")
    assert "category<TAB>text<TAB>label" in readme
    assert "written by hand" in readme and "직접 쓴" in readme


@pytest.mark.torch
def test_read_probes_reads_every_row_as_written():
    probes = chapter().read_probes("ko")
    with open(PROBES / "ko.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    assert list(probes.columns) == ["category", "text", "label"]
    assert probes.values.tolist() == [[c, t, int(y)] for c, t, y in rows]
    assert chapter().PROBE_DIR == PROBES     # built from utils' location, not from the current folder


# ---------------------------------------------------------------------------- calibration

@pytest.mark.torch
def test_ece_of_a_hand_computed_example():
    ch = chapter()
    probabilities = np.array([[0.1, 0.9], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    labels = np.array([1, 0, 1, 1])
    # ten bins: every example alone in its bin; |1 - .9|, |0 - .8|, |1 - .6|, |1 - .7| averaged
    assert ch.expected_calibration_error(probabilities, labels) == pytest.approx((0.1 + 0.8 + 0.4 + 0.3) / 4)
    # two bins: all four in [0.5, 1]; mean confidence 0.75 = accuracy 3/4
    assert ch.expected_calibration_error(probabilities, labels, n_bins=2) == pytest.approx(0.0)
    bins = ch.reliability_bins(probabilities, labels)
    assert bins["count"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert bins.loc[9, "confidence"] == pytest.approx(0.9) and bins.loc[8, "accuracy"] == 0
    assert bins["lower"].tolist() == pytest.approx(np.arange(10) / 10)


@pytest.mark.torch
def test_ece_puts_confidence_one_in_the_last_bin_and_is_zero_when_calibrated():
    ch = chapter()
    bins = ch.reliability_bins(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 0]))
    assert bins["count"].iloc[-1] == 2
    # 8 examples at 0.75 confidence, 6 of them right: a calibrated model
    probabilities = np.array([[0.25, 0.75]] * 8)
    labels = np.array([1, 1, 1, 0, 1, 1, 1, 0])
    assert ch.expected_calibration_error(probabilities, labels) == pytest.approx(0.0)


@pytest.mark.torch
def test_fit_temperature_recovers_a_known_temperature():
    import torch

    ch = chapter()
    generator = torch.Generator().manual_seed(0)
    true_logits = torch.randn(20_000, 2, generator=generator) * 2.0
    labels = torch.multinomial(true_logits.softmax(-1), 1, generator=generator).squeeze(1)
    for true_temperature in (0.5, 2.5):
        # an overconfident (T > 1) or underconfident (T < 1) model: its logits are the true ones times T
        fitted = ch.fit_temperature(true_logits * true_temperature, labels)
        assert fitted == pytest.approx(true_temperature, rel=0.05)


@pytest.mark.torch
def test_temperature_scaling_keeps_the_predictions_and_lowers_ece_of_an_overconfident_model():
    import torch

    ch = chapter()
    generator = torch.Generator().manual_seed(1)
    true_logits = torch.randn(5_000, 2, generator=generator)
    labels = torch.multinomial(true_logits.softmax(-1), 1, generator=generator).squeeze(1)
    logits = true_logits * 3.0                                        # overconfident
    temperature = ch.fit_temperature(logits, labels)
    scaled = ch.scaled_probabilities(logits, temperature)
    assert torch.equal(scaled.argmax(-1), logits.argmax(-1))
    assert torch.allclose(scaled.sum(-1), torch.ones(len(scaled)))
    assert torch.allclose(ch.scaled_probabilities(logits, 1.0), logits.softmax(-1))
    assert (ch.expected_calibration_error(scaled, labels)
            < ch.expected_calibration_error(logits.softmax(-1), labels) / 2)


# ---------------------------------------------------------------------------- attributions

@pytest.fixture(scope="module")
def tiny_classifier():
    """A tiny random KoBERT-shaped classifier (smoke mode), untrained: the functions need no training."""
    import torch

    from utils.env import set_seed
    from utils.pytorch import BERTClassifier, load_bert

    assert os.environ["BOOK_MODE"] == "smoke"
    set_seed(0)
    bert, tokenizer = load_bert("ko")
    model = BERTClassifier(bert).eval()
    with torch.no_grad():                       # a head that gives the classes clearly different logits
        model.classifier.weight.normal_(0, 1.0)
    return model, tokenizer


@pytest.mark.torch
def test_integrated_gradients_give_one_score_per_token_adding_up_to_the_log_odds_difference(tiny_classifier):
    import torch

    ch = chapter()
    model, tokenizer = tiny_classifier
    token_ids = tokenizer("배우들 연기는 좋았는데 결말이 너무 허무했다")["input_ids"]
    scores, (text_log_odds, baseline_log_odds) = ch.token_attributions(
        model, token_ids, tokenizer.pad_token_id, n_steps=100)
    assert scores.shape == (len(token_ids),)
    assert scores[0] == 0 and scores[-1] == 0          # [CLS] and [SEP] are the same in the baseline
    # the log-odds the function reports are the model's own
    baseline = [token_ids[0]] + [tokenizer.pad_token_id] * (len(token_ids) - 2) + [token_ids[-1]]
    with torch.no_grad():
        logits = model(torch.tensor([token_ids, baseline]), torch.zeros(2, len(token_ids), dtype=torch.long),
                       torch.tensor([len(token_ids)] * 2))
    assert [text_log_odds, baseline_log_odds] == pytest.approx((logits[:, 1] - logits[:, 0]).tolist(), abs=1e-5)
    difference = text_log_odds - baseline_log_odds
    assert abs(difference) > 1e-3                      # a test of completeness needs something to add up
    assert scores.sum().item() == pytest.approx(difference, rel=0.02, abs=1e-4)


@pytest.mark.torch
def test_cls_attention_sums_to_one_and_restores_the_attention_implementation(tiny_classifier):
    ch = chapter()
    model, tokenizer = tiny_classifier
    token_ids = tokenizer("정말 재미있는 영화")["input_ids"]
    before = model.bert.config._attn_implementation
    attention = ch.cls_attention(model, token_ids)
    assert attention.shape == (len(token_ids),)
    assert (attention >= 0).all() and attention.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert model.bert.config._attn_implementation == before


@pytest.mark.torch
def test_merge_pieces_joins_wordpiece_and_sentencepiece_pieces_and_adds_their_scores():
    ch = chapter()
    words, scores = ch.merge_pieces(["[CLS]", "un", "##believ", "##able", "movie", "[SEP]"],
                                    [0, 1, 2, 3, 4, 0])
    assert words == ["[CLS]", "unbelievable", "movie", "[SEP]"] and scores == [0, 6, 4, 0]
    words, scores = ch.merge_pieces(["[CLS]", "▁영화", "▁", "않", "았", "다", "▁ㅋㅋ", "[SEP]"],
                                    [0, 1, 2, 3, 4, 5, 6, 0])
    assert words == ["[CLS]", "영화", "않았다", "ㅋㅋ", "[SEP]"] and scores == [0, 1, 14, 6, 0]


@pytest.mark.torch
def test_highlight_escapes_words_and_shades_by_sign_and_size():
    ch = chapter()
    html = ch.highlight(["<b>great</b>", "bad", "the"], [2.0, -1.0, 0.0])
    assert html.count("<span") == 3 and "<b>" not in html and "&lt;b&gt;great&lt;/b&gt;" in html
    assert "rgba(0,160,60,0.70)" in html and "rgba(220,40,40,0.35)" in html and ",0.00)" in html
    assert "rgba(30,100,230" in ch.highlight(["a"], [0.5], signed=False)


@pytest.mark.torch
def test_explain_shows_the_label_the_probability_and_every_word(tiny_classifier):
    import torch

    ch = chapter()
    model, tokenizer = tiny_classifier
    text = "연기는 좋았는데 결말이 허무했다"
    html = ch.explain(model, tokenizer, text, ("부정", "긍정"), max_len=64, temperature=2.0)
    token_ids = tokenizer(text)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([token_ids]), torch.zeros(1, len(token_ids), dtype=torch.long),
                       torch.tensor([len(token_ids)]))
    probabilities = (logits / 2.0).softmax(-1)[0]
    label = ("부정", "긍정")[int(probabilities.argmax())]
    assert f"<b>{label}</b> {probabilities.max().item():.1%}" in html
    words, _ = ch.merge_pieces(tokenizer.convert_ids_to_tokens(token_ids), [0.0] * len(token_ids))
    assert html.count("<span") == len(words)


@pytest.mark.torch
def test_plot_reliability_draws_the_filled_bins_in_the_book_language(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.plots import plot_reliability

    ch = chapter()
    bins = ch.reliability_bins(np.array([[0.1, 0.9], [0.2, 0.8], [0.35, 0.65]]), np.array([1, 1, 0]))
    for lang, word in (("ko", "정확도"), ("en", "accuracy")):
        monkeypatch.setenv("BOOK_LANG", lang)
        fig, ax = plt.subplots()
        plot_reliability(ax, bins)
        heights = sorted(round(p.get_height(), 6) for p in ax.patches[:3])
        assert heights == [0.0, 1.0, 1.0]           # three filled bins: accuracies 0, 1, 1
        assert ax.get_ylabel() == word
        plt.close(fig)
