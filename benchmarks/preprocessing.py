"""Benchmark 3: from raw reviews to model inputs, the book's path vs the seed tutorial's.

- seed: gluonnlp's ``BERTSentenceTransform(max_seq_length=64, pad=True)`` called once per
  review with ``BERTSPTokenizer``, as the KoBERT tutorials do. Per review it keeps three numpy
  arrays: token ids padded to 64, the valid length, segment ids padded to 64.
- book: one call of ``KoBertTokenizer.encode_compact(texts, 64)``: the same ids
  (tests/test_tokenization.py checks them against gluonnlp's), cut to 64 but not padded,
  in two flat arrays (every review's ids one after another, and where each review starts).
  Padding is done per batch (``utils.pytorch.pad_batch``), which also makes the segment ids
  (all 0 for one sentence) and takes the valid length from each review's length.

Both start from the same corpus (``nsmc_like_corpus``) with the same maximum length (64).

Speed: reviews per second over the first ``reviews_speed`` reviews, after a 100-review
warm-up; both paths run on one thread (``threads``), on the same CPUs.

Memory: each path runs in a fresh Python process, so neither inherits the other's freed
memory. After the imports, the corpus and the tokenizer are ready, the process resets the
kernel's peak-RSS counter (``/proc/self/clear_refs``), builds the inputs of
``reviews_memory`` reviews and keeps them; the peak RSS (``VmHWM``) minus the RSS before is
the peak. RSS sees everything (Python objects, numpy, SentencePiece's and MXNet's C++
allocations), which ``tracemalloc`` would not. Where the counter cannot be reset, the peak
since the process started (``ru_maxrss``) is used and ``memory_measure`` says so.

The book tokenizes a block of reviews whose whitespace-separated chunks mostly repeat through a
cache (each distinct chunk once), and a block of mostly distinct chunks review by review (whole
reviews in one SentencePiece call), so its speed depends on how often chunks repeat. Speed is
therefore measured on two corpora of the same length profile that bracket real reviews: ``repetitive`` is made of the bundled sample's few
thousand words (far more repetition than real NSMC), ``diverse`` appends random syllables so
that almost every chunk is distinct (less repetition than real text). ``distinct_chunks``
gives each one's share of distinct chunks. Real NSMC lies between the two; it is not
measured here (the data cannot be downloaded on the machines that run this).
"""
import gc
import os
import re
import resource
import sys
import time
from pathlib import Path

from benchmarks import in_fresh_process, print_result
from benchmarks.corpus import nsmc_like_corpus
from utils.tokenization import KoBertTokenizer, sample_korean_sentencepiece

MAX_LEN = 64
SIZES = {"small": (300, 5_000), "full": (50_000, 150_000)}   # reviews for speed, for memory
# (the small memory size is not smaller: a few hundred reviews fit in memory the process freed
# earlier, so the RSS would not grow at all)


def seed_transform():
    import utils.env  # noqa: F401  (numpy aliases for MXNet)
    import gluonnlp as nlp

    from utils.gluon import BERTSPTokenizer

    sp_model = str(sample_korean_sentencepiece())
    vocab = nlp.vocab.BERTVocab.from_sentencepiece(sp_model, padding_token="[PAD]")
    tokenizer = BERTSPTokenizer(sp_model, vocab, lower=False)
    transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=MAX_LEN, pad=True, pair=False)
    return lambda texts: [transform((text,)) for text in texts]


def book_transform():
    tokenizer = KoBertTokenizer(sample_korean_sentencepiece())
    return lambda texts: tokenizer.encode_compact(texts, MAX_LEN)


TRANSFORMS = {"seed": seed_transform, "book": book_transform}
THREADS = {"seed": 1, "book": 1}   # the seed is a Python loop; the book asks SentencePiece for 1


def _rss_kib(field):
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1))


def _reset_peak_rss():
    """Make the kernel's peak-RSS counter start again from the current RSS; False if it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_bytes(transform, texts):
    """Peak memory (bytes) above the RSS before, while the inputs of ``texts`` are built and held."""
    gc.collect()
    before = _rss_kib("VmRSS")
    reset = _reset_peak_rss()
    inputs = transform(texts)
    peak = _rss_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB both
    del inputs
    method = ("peak RSS (VmHWM, reset just before)" if reset else "peak RSS since process start (ru_maxrss)")
    return (peak - before) * 1024, method + " - RSS before; a fresh process per path"


def _speed(transform, texts):
    started = time.perf_counter()
    transform(texts)
    return len(texts) / (time.perf_counter() - started)


def _distinct_share(texts):
    chunks = [chunk for text in texts for chunk in text.split()]
    return len(set(chunks)) / len(chunks)


def measure(name, n_speed, n_memory, seed=0):
    """One path's speed and peak memory, in this process (``run`` starts a fresh one per path)."""
    texts, _ = nsmc_like_corpus(max(n_speed, n_memory), seed)
    diverse, _ = nsmc_like_corpus(n_speed, seed, diverse=True)
    transform = TRANSFORMS[name]()
    transform(texts[:100])                                    # warm-up
    # memory first: what the speed run frees could be reused without raising the RSS
    peak, method = _peak_bytes(transform, texts[:n_memory])
    corpora = {"repetitive": texts[:n_speed], "diverse": diverse}
    return {"reviews_per_second": {kind: _speed(transform, corpus) for kind, corpus in corpora.items()},
            "distinct_chunks": {kind: _distinct_share(corpus) for kind, corpus in corpora.items()},
            "peak_bytes": peak, "memory_measure": method}


def run(size="full", seed=0):
    n_speed, n_memory = SIZES[size]
    results = {name: in_fresh_process("preprocessing", name, n_speed, n_memory, seed) for name in TRANSFORMS}
    per_second = {name: r["reviews_per_second"] for name, r in results.items()}   # name -> corpus -> value
    peak = {name: r["peak_bytes"] for name, r in results.items()}
    if peak["seed"] <= 0:
        raise RuntimeError(f"benchmark 3: the seed's inputs for {n_memory:,} reviews did not raise the "
                           f"process's RSS at all (freed memory was reused); measure more reviews.")
    return {"reviews_speed": n_speed, "reviews_memory": n_memory, "reviews_per_second": per_second,
            "speedup": {kind: per_second["book"][kind] / per_second["seed"][kind] for kind in per_second["book"]},
            "distinct_chunks": results["book"]["distinct_chunks"],
            "peak_bytes": peak, "memory_ratio": peak["book"] / peak["seed"], "threads": THREADS,
            "cpus": len(os.sched_getaffinity(0)), "memory_measure": results["book"]["memory_measure"]}


if __name__ == "__main__":   # a worker of ``run``: python -m benchmarks.preprocessing seed|book N_SPEED N_MEMORY SEED
    path, *numbers = sys.argv[1:]
    print_result(measure(path, *map(int, numbers)))
