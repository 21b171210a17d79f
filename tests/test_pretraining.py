"""Chapter 12's #@save cells: BERT's 80/10/10 masking and next-sentence pairs."""
import numpy as np
import pytest

from utils.saved import chapter_code

mask_tokens = chapter_code("12_pretraining").mask_tokens
next_sentence_pairs = chapter_code("12_pretraining").next_sentence_pairs

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIAL = (PAD, UNK, CLS, SEP)
VOCAB = 1000


def sequence(rng, n_real=40, n_pad=10):
    return np.array([CLS] + list(rng.integers(5, VOCAB, n_real)) + [SEP] + [PAD] * n_pad)


def test_masking_follows_80_10_10_over_many_samples_and_never_touches_special_tokens():
    rng = np.random.default_rng(0)
    counts = {"mask": 0, "random": 0, "kept": 0}
    chosen = candidates = 0
    for _ in range(3000):
        ids = sequence(rng)
        corrupted, positions, labels = mask_tokens(ids, SPECIAL, VOCAB, MASK, rng)
        assert not np.isin(ids[positions], SPECIAL).any()           # never [CLS], [SEP] or [PAD]
        untouched = np.setdiff1d(np.arange(len(ids)), positions)
        assert (corrupted[untouched] == ids[untouched]).all()          # only chosen positions change
        assert (labels == ids[positions]).all()
        new = corrupted[positions]
        counts["mask"] += int((new == MASK).sum())
        counts["kept"] += int((new == labels).sum())
        counts["random"] += int(((new != MASK) & (new != labels)).sum())
        assert not np.isin(new[new != MASK], SPECIAL + (MASK,)).any()  # random tokens are ordinary
        chosen += len(positions)
        candidates += 40
    assert chosen / candidates == pytest.approx(0.15, abs=0.005)
    # a random replacement can draw the original token (1 in ~995): it then counts as kept
    assert counts["mask"] / chosen == pytest.approx(0.8, abs=0.01)
    assert counts["random"] / chosen == pytest.approx(0.1, abs=0.01)
    assert counts["kept"] / chosen == pytest.approx(0.1, abs=0.01)


def test_short_sequences_get_at_least_one_masked_token_and_all_special_gets_none():
    rng = np.random.default_rng(1)
    _, positions, _ = mask_tokens([CLS, 7, SEP], SPECIAL, VOCAB, MASK, rng)
    assert positions.tolist() == [1]
    corrupted, positions, labels = mask_tokens([CLS, SEP, PAD], SPECIAL, VOCAB, MASK, rng)
    assert corrupted.tolist() == [CLS, SEP, PAD] and len(positions) == len(labels) == 0


def test_next_sentence_pairs_are_half_real_and_random_partners_come_from_other_documents():
    rng = np.random.default_rng(0)
    documents = [[f"d{d}s{s}" for s in range(6)] for d in range(200)]
    pairs = next_sentence_pairs(documents, rng)
    assert len(pairs) == 200 * 5
    assert np.mean([is_next for _, _, is_next in pairs]) == pytest.approx(0.5, abs=0.06)
    for a, b, is_next in pairs:
        same_doc = a.split("s")[0] == b.split("s")[0]
        if is_next:
            assert same_doc and int(b.split("s")[1]) == int(a.split("s")[1]) + 1
        else:
            assert not same_doc
    with pytest.raises(ValueError, match="at least one document"):
        next_sentence_pairs([[], []], rng)
