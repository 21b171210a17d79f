"""Building BERT's pre-training examples: masked-language-model corruption and next-sentence pairs.

Framework-free (numpy): the Gluon and PyTorch chapters turn the results into their own arrays.
"""
import numpy as np


def mask_tokens(token_ids, special_ids, vocab_size, mask_id, rng, mask_prob=0.15):
    """Corrupt one sequence for the masked language model, as BERT does.

    ``mask_prob`` of the positions that are not special tokens ([CLS], [SEP], [PAD], ...; their
    ids in ``special_ids``) are chosen, at least one when there is any. Of the chosen ones
    80% become ``mask_id``, 10% a random ordinary token, 10% keep their token; the model must
    predict the original token at every chosen position.

    Returns ``(corrupted_ids, positions, labels)``: the new sequence, the chosen positions
    (sorted) and the original tokens there.
    """
    token_ids = np.asarray(token_ids)
    special = np.isin(token_ids, list(special_ids))
    candidates = np.flatnonzero(~special)
    if len(candidates) == 0:
        return token_ids.copy(), np.array([], dtype=int), np.array([], dtype=token_ids.dtype)
    n_chosen = max(1, int(round(mask_prob * len(candidates))))
    positions = np.sort(rng.choice(candidates, size=n_chosen, replace=False))
    labels = token_ids[positions]
    corrupted = token_ids.copy()
    action = rng.random(n_chosen)                       # < 0.8: [MASK]; < 0.9: random; else keep
    corrupted[positions[action < 0.8]] = mask_id
    random_slots = positions[(action >= 0.8) & (action < 0.9)]
    ordinary = np.setdiff1d(np.arange(vocab_size), list(special_ids) + [mask_id])
    corrupted[random_slots] = rng.choice(ordinary, size=len(random_slots))
    return corrupted, positions, labels


def next_sentence_pairs(documents, rng):
    """``(sentence_a, sentence_b, is_next)`` for every sentence that has a successor.

    Half of the time (at random) ``sentence_b`` is the real next sentence (``is_next=1``);
    otherwise it is a random sentence from another document (``is_next=0``), as in BERT.
    ``documents`` is a list of documents, each a list of sentences; a random partner comes
    from the same document only when there is just one document.
    """
    documents = [doc for doc in documents if len(doc) > 0]
    if not documents:
        raise ValueError("next_sentence_pairs needs at least one document with a sentence.")
    pairs = []
    for d, doc in enumerate(documents):
        for a, b in zip(doc[:-1], doc[1:]):
            if rng.random() < 0.5:
                pairs.append((a, b, 1))
                continue
            others = [i for i in range(len(documents)) if i != d] or [d]
            other = documents[rng.choice(others)]
            pairs.append((a, other[rng.integers(len(other))], 0))
    return pairs
