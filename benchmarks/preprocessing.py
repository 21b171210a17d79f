"""Benchmark 3: from raw reviews to model inputs, the book's path vs the seed tutorial's.

- seed: gluonnlp's ``BERTSentenceTransform(max_seq_length=64, pad=True)`` called once per
  review with ``BERTSPTokenizer``, as the KoBERT tutorials do;
- book: one batched call of ``utils.pytorch.encode`` with ``KoBertTokenizer`` (the same ids,
  as tests/test_tokenization.py checks), padding left to batching time.
Speed: reviews per second. Memory: the peak traced allocation while the inputs are built
and held (tracemalloc sees Python objects and numpy arrays alike).
"""
import time
import tracemalloc

from benchmarks.corpus import nsmc_like_corpus
from utils.pytorch import encode
from utils.tokenization import KoBertTokenizer, sample_korean_sentencepiece

MAX_LEN = 64
SIZES = {"small": (300, 600), "full": (50_000, 150_000)}   # reviews for speed, for memory


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
    return lambda texts: encode(tokenizer, texts, MAX_LEN)


def _speed(transform, texts):
    transform(texts[:100])                                    # warm-up
    started = time.perf_counter()
    transform(texts)
    return len(texts) / (time.perf_counter() - started)


def _peak_bytes(transform, texts):
    tracemalloc.start()
    inputs = transform(texts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del inputs
    return peak


def run(size="full", seed=0):
    n_speed, n_memory = SIZES[size]
    texts, _ = nsmc_like_corpus(max(n_speed, n_memory), seed)
    transforms = {"seed": seed_transform(), "book": book_transform()}
    per_second = {name: _speed(t, texts[:n_speed]) for name, t in transforms.items()}
    peak = {name: _peak_bytes(t, texts[:n_memory]) for name, t in transforms.items()}
    return {"reviews_speed": n_speed, "reviews_memory": n_memory, "reviews_per_second": per_second,
            "peak_bytes": peak, "speedup": per_second["book"] / per_second["seed"],
            "memory_ratio": peak["book"] / peak["seed"]}
