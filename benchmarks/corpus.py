"""A corpus with NSMC's length profile, made from the words of the bundled NSMC sample."""
import contextlib
import io

import numpy as np

from utils.data import SAMPLE_DIR, read_nsmc

MAX_CHARS = 139        # every NSMC review is under 140 characters
MEAN_CHARS = 35        # and the mean is around 35


def nsmc_like_corpus(n, seed=0, diverse=False):
    """``(texts, labels)``: ``n`` reviews whose character lengths follow NSMC's profile.

    Lengths come from a log-normal distribution with mean about ``MEAN_CHARS``, cut at
    ``MAX_CHARS``; each review strings together random words of the bundled sample (a few
    thousand distinct words, so they repeat far more often than in real reviews).
    ``diverse=True``: each word gets one or two random Hangul syllables appended, so that
    almost every word of the corpus is distinct: the other extreme.
    """
    rng = np.random.default_rng(seed)
    with contextlib.redirect_stdout(io.StringIO()):   # not the reader's report on dropped rows
        sample = read_nsmc(SAMPLE_DIR / "nsmc" / "ratings_train.txt")
    words = " ".join(sample["text"]).split()
    sigma = 0.65
    lengths = rng.lognormal(np.log(MEAN_CHARS) - sigma ** 2 / 2, sigma, size=n)
    lengths = np.clip(lengths.round().astype(int), 2, MAX_CHARS)
    texts = []
    for length in lengths:
        text = ""
        while len(text) < length:
            word = words[rng.integers(len(words))]
            if diverse:
                word += "".join(map(chr, rng.integers(0xAC00, 0xD7A4, size=rng.integers(1, 3))))
            text += (" " if text else "") + word
        texts.append(text[:length].strip() or words[0])
    return texts, rng.integers(0, 2, size=n).tolist()
