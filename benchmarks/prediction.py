"""Benchmark 5: predicting many texts on a CPU, the book's ``predict_sentiment`` vs transformers' pipeline.

One classifier, three ways to run it over the same texts:
- pipeline: ``transformers.pipeline("text-classification")`` with its defaults (one text at a
  time, so no padding; ``truncation=True`` so that long reviews fit);
- book: ``utils.pytorch.predict_sentiment`` (length-sorted batches with dynamic padding,
  ``torch.inference_mode``);
- book, int8: the same call on a copy whose linear layers are quantized to int8 on the fly
  (``torch.ao.quantization.quantize_dynamic``), a faster runtime on a CPU.

The classifier is a BERT of benchmark 1's size (4 layers, 256 wide) with the smoke English
vocabulary and random weights: speed depends on the size, not on what the weights learned (a
random BERT cannot learn the bundled sample's 220 reviews, so no accuracy is measured here).
The book's labels must equal the pipeline's; int8's effect is stated as the number of labels it
changes and the largest change of a probability. Two length profiles: IMDB-like (the sample's
test reviews, cut at ``MAX_LEN`` tokens) and NSMC-like (the same reviews cut to NSMC's lengths,
mean about 35 characters).
"""
import copy
import time

import numpy as np
import torch
from torch import nn

from benchmarks.corpus import nsmc_like_corpus
from utils.data import SAMPLE_DIR, read_imdb
from utils.pytorch import BERTClassifier, encode, predict, predict_sentiment
from utils.tokenization import sample_english_vocab

MAX_LEN = 256
SIZES = {  # texts per profile (the sample's reviews repeated), batch size, BERT
    "small": (60, 8, dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)),
    "full": (600, 8, dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)),
}
LABELS = ("negative", "positive")


def classifier(config, seed=0):
    """``(hf_model, book_model, tokenizer)``: one set of weights, seen by transformers and by the book."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    tokenizer = BertTokenizerFast(vocab_file=str(sample_english_vocab()), do_lower_case=True)
    torch.manual_seed(seed)
    hf = BertForSequenceClassification(BertConfig(vocab_size=len(tokenizer), num_labels=2,
                                                  id2label=dict(enumerate(LABELS)), **config)).eval()
    book = BERTClassifier(hf.bert, num_classes=2, dropout=hf.dropout.p)
    book.classifier = hf.classifier                      # the very same layer: one set of weights
    return hf, book.eval(), tokenizer


def nsmc_lengths(texts, seed=0):
    """The same reviews cut to NSMC's character lengths (at a word boundary)."""
    lengths = [len(text) for text in nsmc_like_corpus(len(texts), seed)[0]]
    return [text[:n].rsplit(" ", 1)[0] or text.split()[0] for text, n in zip(texts, lengths)]


def _timed(labels_of, texts):
    labels_of(texts[:8])                                 # warm-up
    started = time.perf_counter()
    labels = labels_of(texts)
    return len(texts) / (time.perf_counter() - started), labels


def run(size="full", seed=0):
    n_texts, batch_size, config = SIZES[size]
    from transformers import pipeline

    hf, book, tokenizer = classifier(config, seed)
    int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(book), {nn.Linear}, dtype=torch.qint8)
    pipe = pipeline("text-classification", model=hf, tokenizer=tokenizer, device=-1)
    test = read_imdb(SAMPLE_DIR / "aclImdb", "test")
    reviews = (test["text"].tolist() * (n_texts // len(test) + 1))[:n_texts]
    ways = {
        "pipeline": lambda texts: [r["label"] for r in pipe(texts, truncation=True, max_length=MAX_LEN)],
        "book": lambda texts: [p.label for p in predict_sentiment(book, tokenizer, texts, LABELS, MAX_LEN,
                                                                  batch_size, torch.device("cpu"))],
        "book, int8": lambda texts: [p.label for p in predict_sentiment(int8, tokenizer, texts, LABELS, MAX_LEN,
                                                                        batch_size, torch.device("cpu"))],
    }
    result = {"texts": n_texts, "batch_size": batch_size, "max_len": MAX_LEN, "threads": torch.get_num_threads()}
    for profile, texts in (("IMDB-like", reviews), ("NSMC-like", nsmc_lengths(reviews, seed))):
        timed = {name: _timed(labels_of, texts) for name, labels_of in ways.items()}
        speeds = {name: speed for name, (speed, _) in timed.items()}
        result[profile] = {
            "mean_tokens": float(np.mean(encode(tokenizer, texts, MAX_LEN).lengths())),
            "texts_per_second": speeds,
            "speedup": {name: speeds[name] / speeds["pipeline"] for name in ("book", "book, int8")},
            "book_labels_equal_pipeline": timed["book"][1] == timed["pipeline"][1],
            "int8_labels_changed": sum(a != b for a, b in zip(timed["book, int8"][1], timed["book"][1]))}
    texts = test["text"].tolist()
    fp32, quantized = (predict(m, tokenizer, texts, LABELS, MAX_LEN)[list(LABELS)].to_numpy() for m in (book, int8))
    result["int8_vs_fp32"] = {"texts": len(texts), "labels_changed": int((fp32.argmax(1) != quantized.argmax(1)).sum()),
                              "largest_probability_change": float(np.abs(fp32 - quantized).max())}
    return result
