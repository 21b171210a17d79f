"""Benchmark 5: predicting many texts on a CPU, the book's ``predict_sentiment`` vs transformers' pipeline.

One classifier, six ways to run it over the same texts:
- pipeline: ``transformers.pipeline("text-classification")`` with its defaults (one text at a
  time, so no padding; ``truncation=True`` so that long reviews fit);
- book: ``utils.pytorch.predict_sentiment`` (length-sorted batches with dynamic padding,
  ``torch.inference_mode``);
- book, int8: the same call on a copy whose linear layers are quantized to int8 on the fly
  (``torch.ao.quantization.quantize_dynamic``);
- book, bf16: the same call on a copy cast to bfloat16, fast on CPUs with Intel AMX's matrix unit
  (amx_bf16, named in the results) and slow elsewhere, also where avx512_bf16 alone is present;
- OpenVINO, fp32 and OpenVINO, int8: the same call on chapter 60's ``to_openvino`` (Intel's inference
  runtime; int8: weights and activations quantized by NNCF, calibrated on the sample's training reviews).

The classifier is a BERT of benchmark 1's size (4 layers, 256 wide) with the smoke English
vocabulary and random weights: speed depends on the size, not on what the weights learned (a
random BERT cannot learn the bundled sample's 220 reviews, so no accuracy is measured here).
The book's labels must equal the pipeline's; each faster way's effect is stated, on the distinct texts
timed (the sample's test reviews, whole and cut to NSMC's lengths, none of them seen by the int8
calibration), as the labels it changes (a bound on the change of any accuracy: changed / texts) and
the largest change of a probability. Two length profiles: IMDB-like (the sample's
test reviews, cut at ``MAX_LEN`` tokens) and NSMC-like (the same reviews cut to NSMC's lengths,
mean about 35 characters).

Every way runs after chapter 60's ``keep_freed_memory`` (glibc keeps freed blocks for the next
batch instead of returning them to the system). A second process measures the pipeline and the
book with glibc's default settings, where the book's length-sorted batches, each of another size,
can keep fetching fresh zeroed pages from the system (how soon glibc adapts differs between
machines) and its speed varies from run to run.
"""
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks import in_fresh_process, print_result
from benchmarks.corpus import nsmc_like_corpus
from utils.data import SAMPLE_DIR, read_imdb
from utils.pytorch import BERTClassifier, encode, predict, predict_sentiment
from utils.saved import chapter_code
from utils.tokenization import sample_english_vocab

MAX_LEN = 256
SIZES = {  # texts per profile (the sample's reviews repeated), batch size, BERT
    "small": (60, 16, dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)),
    "full": (600, 16, dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)),
}
LABELS = ("negative", "positive")
FASTER = ("book, int8", "book, bf16", "OpenVINO, fp32", "OpenVINO, int8")   # each checked against the book's fp32 labels


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


def _best_speeds(ways, texts, rounds=3):
    """Texts per second of each way, the best of ``rounds`` passes taken in turn (a pass slowed by
    something else on the machine does not count), and each way's labels."""
    for labels_of in ways.values():
        labels_of(texts[:8])                             # warm-up
    seconds, labels = {}, {}
    for _ in range(rounds):
        for name, labels_of in ways.items():
            started = time.perf_counter()
            labels[name] = labels_of(texts)
            seconds[name] = min(seconds.get(name, float("inf")), time.perf_counter() - started)
    return {name: len(texts) / s for name, s in seconds.items()}, labels


def bf16_instructions():
    """The CPU's bf16 instructions as /proc/cpuinfo names them (empty where there are none): amx_bf16 is the
    matrix unit that makes bf16 fast; avx512_bf16 only adds dot products."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = set(cpuinfo.read_text().split()) if cpuinfo.is_file() else set()
    return sorted(flags & {"amx_bf16", "avx512_bf16"})


def run(size="full", seed=0):
    """``measure`` in a fresh Python: no MXNet in the process. Benchmark 2 imports it, and its OpenMP
    threads then slow PyTorch's small operations several times (seen here: the pipeline on short
    texts at 24 instead of 450 texts per second), so one process would not give a fair comparison.
    Then the pipeline and the book once more, in a process with glibc's default malloc settings."""
    result = in_fresh_process("prediction", size, seed, "kept")
    result["glibc_defaults"] = in_fresh_process("prediction", size, seed, "returned")
    return result


def measure(size="full", seed=0, freed_memory="kept"):
    """Every way with freed memory kept (chapter 60's ``keep_freed_memory``), or only the pipeline and
    the book with glibc's defaults (``freed_memory="returned"``: large freed blocks go back to the system)."""
    every_way = freed_memory == "kept"                      # the main run; else pipeline and book only
    if every_way and not chapter_code("60_prediction_pytorch").keep_freed_memory():
        freed_memory = "returned (no glibc here to keep it)"
    n_texts, batch_size, config = SIZES[size]
    from transformers import pipeline

    hf, book, tokenizer = classifier(config, seed)
    test = read_imdb(SAMPLE_DIR / "aclImdb", "test")["text"].tolist()
    models = {"book": book}
    if every_way:
        to_openvino = chapter_code("60_prediction_pytorch").to_openvino
        models["book, int8"] = torch.ao.quantization.quantize_dynamic(copy.deepcopy(book), {nn.Linear}, dtype=torch.qint8)
        models["book, bf16"] = copy.deepcopy(book).to(torch.bfloat16)
        models["OpenVINO, fp32"] = to_openvino(book, tokenizer, max_len=MAX_LEN)
        train = read_imdb(SAMPLE_DIR / "aclImdb", "train")["text"].tolist()      # the calibration texts
        models["OpenVINO, int8"] = to_openvino(book, tokenizer, train, MAX_LEN, batch_size)
    pipe = pipeline("text-classification", model=hf, tokenizer=tokenizer, device=-1)
    reviews = (test * (n_texts // len(test) + 1))[:n_texts]
    ways = {"pipeline": lambda texts: [r["label"] for r in pipe(texts, truncation=True, max_length=MAX_LEN)]}
    ways.update({name: lambda texts, model=model: [p.label for p in predict_sentiment(
        model, tokenizer, texts, LABELS, MAX_LEN, batch_size, torch.device("cpu"))] for name, model in models.items()})
    result = {"texts": n_texts, "batch_size": batch_size, "max_len": MAX_LEN, "threads": torch.get_num_threads(),
              "freed_memory": freed_memory, "cpu_bf16_units": bf16_instructions()}
    for profile, texts in (("IMDB-like", reviews), ("NSMC-like", nsmc_lengths(reviews, seed))):
        speeds, labels = _best_speeds(ways, texts)
        result[profile] = {
            "mean_tokens": float(np.mean(encode(tokenizer, texts, MAX_LEN).lengths())),
            "texts_per_second": speeds,
            "speedup": {name: speeds[name] / speeds["pipeline"] for name in models},
            "book_labels_equal_pipeline": labels["book"] == labels["pipeline"],
            "labels_changed": {name: sum(a != b for a, b in zip(labels[name], labels["book"]))
                               for name in FASTER if name in models}}
    if not every_way:
        return result
    texts = sorted(set(test) | set(nsmc_lengths(test, seed)))   # never in the calibration (training reviews)
    probabilities = {name: predict(model, tokenizer, texts, LABELS, MAX_LEN)[list(LABELS)].to_numpy()
                     for name, model in models.items()}
    result["vs_fp32"] = {name: {"texts": len(texts),
                                "labels_changed": int((probabilities[name].argmax(1) != probabilities["book"].argmax(1)).sum()),
                                "largest_probability_change": float(np.abs(probabilities[name] - probabilities["book"]).max())}
                         for name in FASTER}
    return result


if __name__ == "__main__":   # the worker of ``run``: python -m benchmarks.prediction SIZE SEED FREED_MEMORY
    print_result(measure(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
