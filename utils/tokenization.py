"""Tokenizers for smoke mode, trained at run time on the bundled sample text.

Korean: a SentencePiece model whose special tokens sit where KoBERT's do
(``[UNK]``=0, ``[PAD]``=1, ``[CLS]``=2, ``[SEP]``=3, ``[MASK]``=4), read through
``KoBertTokenizer``. English: a WordPiece vocabulary in BERT's ``vocab.txt`` format.
"""
from pathlib import Path

import sentencepiece as spm

KOBERT_SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]
BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _check_texts(texts):
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise ValueError("Training a tokenizer needs at least one non-empty string.")
    return texts


def train_korean_sentencepiece(texts, out_dir, vocab_size=2000):
    """Train a unigram SentencePiece model with KoBERT's special-token ids; return its path."""
    texts = _check_texts(texts)
    prefix = Path(out_dir) / "ko_sentencepiece"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_prefix=str(prefix), vocab_size=vocab_size,
        model_type="unigram", character_coverage=0.9995, hard_vocab_limit=False,
        unk_id=0, unk_piece="[UNK]", pad_id=1, pad_piece="[PAD]", bos_id=-1, eos_id=-1,
        control_symbols=KOBERT_SPECIAL_TOKENS[2:], num_threads=1, minloglevel=2)
    return prefix.with_suffix(".model")


def train_english_wordpiece(texts, out_dir, vocab_size=3000):
    """Train an uncased WordPiece vocabulary (BERT's vocab.txt format); return its path.

    The pieces come from SentencePiece BPE on BERT-pre-tokenized, lower-cased text
    (deterministic, unlike the ``tokenizers`` trainer, whose vocabulary changes from run
    to run): a word-initial piece is kept as is, a continuation gets ``##``, and every
    character is added in both forms so that no word becomes ``[UNK]``.
    Load it with ``BertTokenizerFast.from_pretrained(path.parent)``: on transformers 5.x
    ``BertTokenizerFast(vocab_file=...)`` silently ignores the file.
    """
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalize, split = BertNormalizer(lowercase=True).normalize_str, BertPreTokenizer().pre_tokenize_str
    lines = [" ".join(word for word, _ in split(normalize(text))) for text in _check_texts(texts)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "wordpiece_bpe"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(prefix), vocab_size=vocab_size,
        model_type="bpe", character_coverage=1.0, hard_vocab_limit=False, unk_id=0,
        bos_id=-1, eos_id=-1, num_threads=1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(prefix.with_suffix(".model")))
    pieces = [sp.id_to_piece(i) for i in range(1, sp.get_piece_size())]
    tokens = [p[1:] if p.startswith("\u2581") else "##" + p for p in pieces if p != "\u2581"]
    chars = sorted({c for line in lines for c in line if not c.isspace()})
    tokens += [form for c in chars for form in (c, "##" + c)]
    vocab = list(dict.fromkeys(BERT_SPECIAL_TOKENS + tokens))  # first occurrence wins
    for leftover in (".model", ".vocab"):
        prefix.with_suffix(leftover).unlink()
    (out_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return out_dir / "vocab.txt"


class KoBertTokenizer:
    """KoBERT-style tokenization: SentencePiece pieces, ``[CLS] A [SEP] (B [SEP])`` ids."""

    def __init__(self, sp_model_file):
        self.sp = spm.SentencePieceProcessor(model_file=str(sp_model_file))
        ids = [self.sp.piece_to_id(t) for t in KOBERT_SPECIAL_TOKENS]
        if ids != list(range(len(KOBERT_SPECIAL_TOKENS))):
            raise ValueError(f"{sp_model_file} does not place {KOBERT_SPECIAL_TOKENS} at ids 0-4 "
                             f"as KoBERT does (found {ids}).")
        self.unk_id, self.pad_id, self.cls_id, self.sep_id, self.mask_id = ids

    def __len__(self):
        return self.sp.get_piece_size()

    def tokenize(self, text):
        return self.sp.encode(text, out_type=str)

    def encode(self, text, pair=None, max_len=128):
        """Return ``(token_ids, segment_ids, valid_length)`` padded to ``max_len``.

        Over-long input is truncated (the longer side first for a pair), never an error.
        """
        if max_len < 3 + (pair is not None):
            raise ValueError(f"max_len={max_len} leaves no room for tokens besides [CLS]/[SEP].")
        first = self.sp.encode(text)
        second = self.sp.encode(pair) if pair is not None else []
        budget = max_len - 2 - (pair is not None)
        while len(first) + len(second) > budget:
            (first if len(first) >= len(second) else second).pop()
        token_ids = [self.cls_id] + first + [self.sep_id]
        segment_ids = [0] * len(token_ids)
        if pair is not None:
            token_ids += second + [self.sep_id]
            segment_ids += [1] * (len(second) + 1)
        valid_length = len(token_ids)
        padding = max_len - valid_length
        return token_ids + [self.pad_id] * padding, segment_ids + [0] * padding, valid_length


def sample_english_vocab():
    """Smoke mode's English vocab.txt: WordPiece trained on the bundled IMDB sample (under a second)."""
    from utils.data import SAMPLE_DIR, cache_dir, read_imdb

    texts = read_imdb(SAMPLE_DIR / "aclImdb", "train")["text"]
    return train_english_wordpiece(texts, cache_dir() / "smoke" / "wordpiece-en")
