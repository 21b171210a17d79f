"""Tokenizers: KoBERT's, and the small ones smoke mode trains at run time on the bundled samples.

``KoBertTokenizer`` reads a KoBERT SentencePiece model (skt/kobert-base-v1's ``spiece.model``,
or one trained here whose special tokens sit where KoBERT's do: ``[UNK]``=0, ``[PAD]``=1,
``[CLS]``=2, ``[SEP]``=3, ``[MASK]``=4). English and multilingual BERTs use a WordPiece
``vocab.txt``, read by transformers' ``BertTokenizerFast``.
"""
import json
import os
import re
import tempfile
import unicodedata
from array import array
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import numpy as np
import sentencepiece as spm

KOBERT_SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]
BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _check_texts(texts):
    """The texts to train a vocabulary on: every item must be a string (a TypeError names the
    first that is not); blank ones carry no words and are left out."""
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__} ({text!r}), not a string. A column "
                            f"read with missing values gives floats (NaN): drop or fill them first.")
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise ValueError("Training a tokenizer needs at least one non-empty string.")
    return texts


def train_korean_sentencepiece(texts, out_dir, vocab_size=2000):
    """Train a unigram SentencePiece model with KoBERT's special-token ids; return its path.

    It learns from the words KoBertTokenizer will give it: text split by BERT's basic
    tokenization (punctuation apart, case kept).
    """
    lines = [" ".join(bert_basic_words(text)) for text in _check_texts(texts)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:   # see _publish
        prefix = Path(scratch) / "spiece"
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_prefix=str(prefix), vocab_size=vocab_size,
            model_type="unigram", character_coverage=0.9995, hard_vocab_limit=False,
            unk_id=0, unk_piece="[UNK]", pad_id=1, pad_piece="[PAD]", bos_id=-1, eos_id=-1,
            control_symbols=KOBERT_SPECIAL_TOKENS[2:], num_threads=1, minloglevel=2)
        return _publish(prefix.with_suffix(".model"), out_dir)


def train_wordpiece(texts, out_dir, vocab_size=3000, lowercase=True):
    """Train a WordPiece vocabulary (BERT's vocab.txt format); return its path.

    ``lowercase=True`` gives an uncased vocabulary (as bert-base-uncased), ``False`` a cased
    one that keeps accents (as bert-base-multilingual-cased); tokenizer_config.json says which.
    The pieces come from SentencePiece BPE on BERT-pre-tokenized (lower-cased) text
    (deterministic, unlike the ``tokenizers`` trainer, whose vocabulary changes from run
    to run): a word-initial piece is kept as is, a continuation gets ``##``, and every
    character is added in both forms so that no word becomes ``[UNK]``.
    Load it with ``BertTokenizerFast.from_pretrained(path.parent)``: on transformers 5.x
    ``BertTokenizerFast(vocab_file=...)`` silently ignores the file.
    """
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalize = BertNormalizer(lowercase=lowercase, strip_accents=lowercase).normalize_str
    split = BertPreTokenizer().pre_tokenize_str
    lines = [" ".join(word for word, _ in split(normalize(text))) for text in _check_texts(texts)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:   # see _publish
        scratch = Path(scratch)
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_prefix=str(scratch / "bpe"), vocab_size=vocab_size,
            model_type="bpe", character_coverage=1.0, hard_vocab_limit=False, unk_id=0,
            bos_id=-1, eos_id=-1, num_threads=1, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=str(scratch / "bpe.model"))
        pieces = [sp.id_to_piece(i) for i in range(1, sp.get_piece_size())]
        tokens = [p[1:] if p.startswith("\u2581") else "##" + p for p in pieces if p != "\u2581"]
        chars = sorted({c for line in lines for c in line if not c.isspace()})
        tokens += [form for c in chars for form in (c, "##" + c)]
        vocab = list(dict.fromkeys(BERT_SPECIAL_TOKENS + tokens))  # first occurrence wins
        (scratch / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        config = {"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase, "strip_accents": lowercase}
        (scratch / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
        _publish(scratch / "tokenizer_config.json", out_dir)
        return _publish(scratch / "vocab.txt", out_dir)


def _publish(path, out_dir):
    """Move a file made in a private scratch folder into ``out_dir`` in one step; return its new path.

    Several processes (torchrun's, or tests run side by side) may train the same smoke
    tokenizer into the same cache folder at once: each trains in its own scratch folder and
    ``os.replace`` swaps the finished file in, so no process ever reads a half-written one.
    """
    final = Path(out_dir) / path.name
    os.replace(path, final)
    return final


def _is_cjk_ideograph(cp):
    """BERT's "Chinese character": the CJK Unified and Compatibility Ideographs blocks."""
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_bert_punctuation(char, category):
    """Unicode punctuation, and every ASCII character that is not a letter, digit or space."""
    return category[0] == "P" or char in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def bert_basic_words(text):
    """BERT's basic tokenization, keeping case, exactly as gluonnlp 0.10's BERTBasicTokenizer does it.

    Delete NUL, U+FFFD and control/format characters (Cc, Cf); turn tabs, newlines and
    space separators (Zs) into spaces; put spaces around CJK ideographs; decompose (NFD) and
    delete non-spacing marks (Mn); put spaces around punctuation; split on whitespace.
    It reads Python's own Unicode database, as gluonnlp does. tokenizers' BertNormalizer +
    BertPreTokenizer (used here before) differ from gluonnlp on 138,228 code points: they delete
    the 137,468 private-use characters, which gluonnlp keeps, and their Unicode tables are older.
    """
    cleaned = []
    for char in text:
        category = unicodedata.category(char)
        if char in " \t\n\r" or category == "Zs":
            cleaned.append(" ")
        elif char in "\x00\ufffd" or category in ("Cc", "Cf"):
            continue
        elif _is_cjk_ideograph(ord(char)):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    split = []
    for char in unicodedata.normalize("NFD", "".join(cleaned)):
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        split.append(f" {char} " if _is_bert_punctuation(char, category) else char)
    return "".join(split).split()


# Encoding a text is encoding its whitespace-separated chunks one by one and joining the ids:
# BERT's normalisation changes each character on its own (NFD's reordering of combining marks
# never crosses a space), then words are cut at whitespace and punctuation, and SentencePiece
# sees one word at a time. Reviews repeat their chunks ("영화", "진짜", "ㅋㅋ"), so where a block
# of texts repeats them often, each distinct chunk is encoded once per call. This holds wherever
# str.split() cuts and BERT cuts too, which is every whitespace character except these control
# characters, which BERT deletes (joining what is on both sides): a text with one of them is
# encoded whole.
_SPLIT_BUT_DELETED_BY_BERT = re.compile("[\x0b\x0c\x1c-\x1f\x85]")


def _symbol_class(*blocks):
    """A regular-expression class of the symbols (category So) in ``blocks`` that NFD and NFKC leave
    as they are: emoji, ♡, ★, ♬ and the like. BERT treats them as letters of a word."""
    runs = []
    for start, end in blocks:
        for cp in range(start, end + 1):
            char = chr(cp)
            if (unicodedata.category(char) == "So"
                    and unicodedata.normalize("NFD", char) == char == unicodedata.normalize("NFKC", char)):
                if runs and runs[-1][1] == cp - 1:
                    runs[-1][1] = cp
                else:
                    runs.append([cp, cp])
    return "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in runs)


# A chunk of only these characters (ASCII letters, digits and punctuation, Hangul syllables,
# modern compatibility jamo ㄱ-ㅣ, the symbols and emoji of ``_symbol_class``) goes through BERT's
# normalisation unchanged except that NFD splits Hangul syllables into jamo, and BERT cuts it
# before and after each ASCII punctuation mark (every ASCII punctuation mark is BERT punctuation).
# So its words are found with a regular expression, several times faster than
# ``bert_basic_words``'s loop over characters. Any other chunk (accents, CJK, other punctuation,
# emoji joined by U+200D or with a skin tone, ...) takes the general path.
_WORD_CHARS = r"0-9A-Za-z\uac00-\ud7a3\u3131-\u3163" + _symbol_class((0x2190, 0x2BFF), (0x1F000, 0x1FAFF))
_ASCII_PUNCTUATION_CHARS = r"!-/:-@\[-`{-~"
_PLAIN_CHUNK = re.compile(f"[{_WORD_CHARS}{_ASCII_PUNCTUATION_CHARS}]+")
_PLAIN_WORD = re.compile(f"[{_WORD_CHARS}]+|[{_ASCII_PUNCTUATION_CHARS}]")
_MAX_CACHED_CHUNKS = 1 << 16   # per call; about 10 MB of cached ids at most

# A whole text of plain characters and single spaces is one string for SentencePiece: put spaces
# around its ASCII punctuation, decompose it (NFD) and SentencePiece cuts it at the spaces into
# exactly BERT's words, giving the same ids as word by word. Done for a block of texts in one
# call, this beats the chunk cache unless chunks repeat a lot: measured on 2 cores, the cache
# costs about 4 us per distinct chunk and this about 1 us per chunk, so the cache is used
# when fewer than a fifth of a block's chunks are distinct.
_PLAIN_TEXT = re.compile(f"[{_WORD_CHARS}{_ASCII_PUNCTUATION_CHARS} ]*")
_ASCII_PUNCTUATION = re.compile(f"([{_ASCII_PUNCTUATION_CHARS}])")
_CACHE_BELOW_DISTINCT_SHARE = 0.2


class TokenIds(Sequence):
    """The token ids of many texts in two flat arrays: 4 bytes a token, not ~36 as in a list of ints.

    ``ids[i]`` is text ``i``'s ids as a list (what ``tokenizer(texts)["input_ids"][i]`` is);
    a slice is again a ``TokenIds``; ``lengths()`` gives every text's number of tokens.
    ``flat`` holds all ids one text after another and text ``i`` is ``flat[offsets[i]:offsets[i + 1]]``.
    """

    def __init__(self, flat, offsets):
        self.flat, self.offsets = flat, offsets

    @classmethod
    def from_lists(cls, rows):
        """The same ids from a list of lists (what a ``transformers`` tokenizer returns)."""
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat = np.fromiter((i for row in rows for i in row), dtype=np.int32, count=int(offsets[-1]))
        return cls(flat, offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return TokenIds(self.flat, self.offsets[start:max(start, stop) + 1])
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} texts")
        index %= len(self)
        return self.flat[self.offsets[index]:self.offsets[index + 1]].tolist()

    def lengths(self):
        return np.diff(self.offsets)

    def tolist(self):
        return [self[i] for i in range(len(self))]

    def __repr__(self):
        return f"TokenIds({len(self)} texts, {len(self.flat)} tokens)"


class KoBertTokenizer:
    """KoBERT's tokenizer, as gluonnlp's ``BERTSPTokenizer`` + ``BERTSentenceTransform`` run it.

    1. BERT's basic tokenization, keeping case: drop control characters, decompose (NFD) and
       drop accents, split on whitespace and punctuation.
    2. Each word -> SentencePiece pieces (the model first normalises with NFKC).
    3. ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``; the ids are the SentencePiece ids
       (KoBERT's vocabulary is its SentencePiece model: [UNK]=0, [PAD]=1, [CLS]=2, [SEP]=3, [MASK]=4).

    It has the parts of the transformers tokenizer API the book uses (``__call__``,
    ``pad_token_id``, ``save_pretrained``/``from_pretrained``, ...) but does not import
    transformers, so it behaves the same on every transformers version. ``encode_compact``
    gives the ids of many texts as a ``TokenIds``, in about a ninth of the memory of lists.

    Speed: each distinct whitespace-separated chunk of the texts of one call is tokenized once
    (see ``_SPLIT_BUT_DELETED_BY_BERT`` for why that gives the same ids), and chunks of plain
    Hangul and ASCII are split into words by a regular expression (``_PLAIN_CHUNK``).
    """

    model_file = "spiece.model"   # the name in skt/kobert-base-v1 and in a saved folder
    model_max_length = 512

    def __init__(self, sp_model_file):
        self.sp = spm.SentencePieceProcessor(model_file=str(sp_model_file))
        ids = [self.sp.piece_to_id(t) for t in KOBERT_SPECIAL_TOKENS]
        if ids != list(range(len(KOBERT_SPECIAL_TOKENS))):
            raise ValueError(f"{sp_model_file} does not place {KOBERT_SPECIAL_TOKENS} at ids 0-4 "
                             f"as KoBERT does (found {ids}).")
        self.unk_token_id, self.pad_token_id, self.cls_token_id, self.sep_token_id, self.mask_token_id = ids
        self.unk_token, self.pad_token, self.cls_token, self.sep_token, self.mask_token = KOBERT_SPECIAL_TOKENS
        # Most models drop extra and outer spaces themselves (SentencePiece's default normalisation)
        self._drops_extra_spaces = self.sp.encode(" 가  a ") == self.sp.encode("가 a")

    @classmethod
    def from_pretrained(cls, name_or_folder="skt/kobert-base-v1"):
        """From a folder with ``spiece.model`` (e.g. one ``save_pretrained`` wrote) or a Hugging Face repo."""
        folder = Path(name_or_folder)
        if (folder / cls.model_file).is_file():
            return cls(folder / cls.model_file)
        if folder.exists():
            raise FileNotFoundError(f"{folder} has no {cls.model_file}; it is not a saved KoBERT tokenizer.")
        from huggingface_hub import hf_hub_download

        return cls(hf_hub_download(str(name_or_folder), cls.model_file))

    def save_pretrained(self, folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / self.model_file).write_bytes(self.sp.serialized_model_proto())
        config = {"tokenizer_class": type(self).__name__, "module": __name__}
        (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
        return folder

    def __len__(self):
        return self.sp.get_piece_size()

    def get_vocab(self):
        return {self.sp.id_to_piece(i): i for i in range(len(self))}

    def _words(self, text):
        return bert_basic_words(text)

    def tokenize(self, text):
        """The SentencePiece pieces of ``text``, without [CLS]/[SEP]."""
        return [piece for pieces in self.sp.encode(self._words(text), out_type=str) for piece in pieces]

    def convert_tokens_to_ids(self, tokens):
        return [self.sp.piece_to_id(t) for t in tokens]  # an unknown piece -> [UNK]'s id

    def convert_ids_to_tokens(self, ids):
        return [self.sp.id_to_piece(int(i)) for i in ids]

    def decode(self, ids, skip_special_tokens=True):
        special = set(range(len(KOBERT_SPECIAL_TOKENS))) if skip_special_tokens else set()
        return self.sp.decode([int(i) for i in ids if int(i) not in special])

    def _words_of_chunk(self, chunk):
        """BERT's words of a whitespace-free chunk, as ``_words`` gives them."""
        if _PLAIN_CHUNK.fullmatch(chunk):
            return [unicodedata.normalize("NFD", word) for word in _PLAIN_WORD.findall(chunk)]
        return self._words(chunk)

    def _encode_words(self, words):
        # One thread: a thread pool would compete with DataLoader workers and torch, and the
        # benchmark compares with the baseline's single thread.
        return self.sp.encode(words, num_threads=1)

    def _cache_chunks(self, cache, chunks):
        """Put every chunk's piece ids in ``cache`` (int32 bytes), with one SentencePiece call for all."""
        if not chunks:
            return
        cache.update(zip(chunks, self._encode_word_lists([self._words_of_chunk(chunk) for chunk in chunks])))

    def _encode_word_lists(self, word_lists):
        """Per list of words, their piece ids (int32 bytes), with one SentencePiece call for all."""
        ids_per_word = iter(self._encode_words([w for words in word_lists for w in words]))
        return [array("i", [i for _ in words for i in next(ids_per_word)]).tobytes() for words in word_lists]

    def _piece_id_rows(self, texts, block_size=4096):
        """Per text, its piece ids (without [CLS]/[SEP]) as int32 bytes, one text after another.

        Texts are taken a block at a time: a block whose chunks are mostly distinct goes text by
        text (``_text_rows``), any other through the chunk cache, where a text's ids are its
        chunks' cached ids joined in C (hence bytes). Only one block's chunks are held at once.
        """
        cache = {}
        for start in range(0, len(texts), block_size):
            block = texts[start:start + block_size]
            chunks = " ".join(block).split()
            if len(set(chunks)) > _CACHE_BELOW_DISTINCT_SHARE * len(chunks):
                yield from self._text_rows(block)
                continue
            chunks_per_text = [self._chunks(text) for text in block]
            if len(cache) > _MAX_CACHED_CHUNKS:
                cache.clear()
            block_chunks = set(chain.from_iterable(chunks for chunks in chunks_per_text if chunks is not None))
            self._cache_chunks(cache, [chunk for chunk in block_chunks if chunk not in cache])
            for text, chunks in zip(block, chunks_per_text):
                if chunks is None:
                    yield self._encode_word_lists([self._words(text)])[0]
                else:
                    yield b"".join(map(cache.__getitem__, chunks))

    @staticmethod
    def _chunks(text):
        """The whitespace-separated chunks of ``text``; None if one must encode it whole."""
        return None if _SPLIT_BUT_DELETED_BY_BERT.search(text) else text.split()

    def _text_rows(self, texts):
        """Per text, its piece ids (int32 bytes): the plain texts (``_PLAIN_TEXT``) whole, in one
        SentencePiece call; the others word by word, in another."""
        plain = [i for i, text in enumerate(texts) if _PLAIN_TEXT.fullmatch(text)]
        joined = "\n".join(texts[i] for i in plain)
        # " ".join of a split at a captured mark puts a space on both sides of each (re.sub with
        # the template r" \1 " does the same, but expands the template in Python, match by match)
        spaced = unicodedata.normalize("NFD", " ".join(_ASCII_PUNCTUATION.split(joined)))
        strings = spaced.split("\n")                  # BERT's words, apart by one space or more
        if not self._drops_extra_spaces:
            strings = [" ".join(string.split()) for string in strings]
        rows = [array("i", ids).tobytes() for ids in self._encode_words(strings)]
        if len(plain) == len(texts):                  # the usual case
            return rows
        rows = dict(zip(plain, rows))
        others = [i for i in range(len(texts)) if i not in rows]
        rows.update(zip(others, self._encode_word_lists([self._text_words(texts[i]) for i in others])))
        return [rows[i] for i in range(len(texts))]

    def _text_words(self, text):
        """BERT's words of ``text``, chunk by chunk where that is exact (see ``_chunks``)."""
        chunks = self._chunks(text)
        if chunks is None:
            return self._words(text)
        return [word for chunk in chunks for word in self._words_of_chunk(chunk)]

    def _piece_ids(self, texts):
        """Piece ids (a list, without [CLS]/[SEP]) per text, one text after another."""
        for row in self._piece_id_rows(texts):
            yield memoryview(row).cast("i").tolist()

    def __call__(self, text, text_pair=None, max_length=None, truncation=True, padding=False):
        """``{"input_ids", "token_type_ids", "attention_mask"}`` for a text or a list of texts.

        ``truncation`` cuts each input to ``max_length`` (default 512) tokens, dropping tokens
        from the end of the longer sentence of a pair first, as BERTSentenceTransform does.
        ``padding``: False, ``"longest"`` (or True), or ``"max_length"``.
        """
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        pairs = None if text_pair is None else ([text_pair] if single else list(text_pair))
        if pairs is not None and len(pairs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(pairs)} text_pair entries; give one pair per text.")
        max_length = self._checked_max_length(max_length, pairs is not None)
        firsts = self._piece_ids(texts)
        seconds = self._piece_ids(pairs) if pairs is not None else [None] * len(texts)
        encoded = {"input_ids": [], "token_type_ids": [], "attention_mask": []}
        for first, second in zip(firsts, seconds):
            token_ids, type_ids = self._with_special_tokens(first, second, max_length if truncation else None)
            encoded["input_ids"].append(token_ids)
            encoded["token_type_ids"].append(type_ids)
            encoded["attention_mask"].append([1] * len(token_ids))
        if padding:
            width = max_length if padding == "max_length" else max(map(len, encoded["input_ids"]))
            for key, value in (("input_ids", self.pad_token_id), ("token_type_ids", 0), ("attention_mask", 0)):
                encoded[key] = [row + [value] * (width - len(row)) for row in encoded[key]]
        return {k: v[0] for k, v in encoded.items()} if single else encoded

    def _checked_max_length(self, max_length, pair=False):
        max_length = max_length or self.model_max_length
        if max_length < 3 + pair:
            raise ValueError(f"max_length={max_length} leaves no room for tokens besides [CLS]/[SEP].")
        return max_length

    def encode_compact(self, texts, max_length=None):
        """``[CLS] text [SEP]`` ids of each text, truncated to ``max_length``, as a ``TokenIds``.

        The same ids as ``self(texts, max_length=max_length)["input_ids"]`` (not padded: padding
        is done per batch), held in flat int32 arrays, so that 150,000 reviews take a few MB.
        Token type ids are all 0 and the attention mask is all 1 for single texts; the batching
        code (``utils.pytorch.pad_batch``) makes them.
        """
        if isinstance(texts, str):
            raise TypeError("encode_compact takes a list of texts; for one text use encode(text).")
        texts = list(texts)
        budget = 4 * (self._checked_max_length(max_length) - 2)    # in bytes of int32 ids
        flat, offsets = array("i"), array("q", [0])
        for row in self._piece_id_rows(texts):
            flat.append(self.cls_token_id)
            flat.frombytes(row if len(row) <= budget else row[:budget])
            flat.append(self.sep_token_id)
            offsets.append(len(flat))
        return TokenIds(np.frombuffer(flat, dtype=np.int32), np.frombuffer(offsets, dtype=np.int64))

    def _with_special_tokens(self, first, second, max_length):
        if max_length is not None:
            budget = max_length - 2 - (second is not None)
            if second is None:
                first = first[:budget]
            else:
                first, second = list(first), list(second)
                while len(first) + len(second) > budget:
                    (first if len(first) > len(second) else second).pop()  # a tie cuts the second
        token_ids = [self.cls_token_id] + first + [self.sep_token_id]
        type_ids = [0] * len(token_ids)
        if second is not None:
            token_ids += second + [self.sep_token_id]
            type_ids += [1] * (len(second) + 1)
        return token_ids, type_ids

    def encode(self, text, text_pair=None, max_length=None):
        """Token ids with [CLS]/[SEP], truncated to ``max_length``, not padded."""
        return self(text, text_pair, max_length=max_length)["input_ids"]


def _sample_texts(lang):
    import contextlib
    import io

    from utils.data import SAMPLE_DIR, read_imdb, read_nsmc

    with contextlib.redirect_stdout(io.StringIO()):  # the chapter already reported the dropped rows
        if lang == "ko":
            return read_nsmc(SAMPLE_DIR / "nsmc" / "ratings_train.txt")["text"]
        return read_imdb(SAMPLE_DIR / "aclImdb", "train")["text"]


def sample_korean_sentencepiece():
    """Smoke mode's KoBERT ``spiece.model``: SentencePiece trained on the bundled NSMC sample."""
    from utils.data import cache_dir

    return train_korean_sentencepiece(_sample_texts("ko"), cache_dir() / "smoke" / "kobert-sp")


def sample_english_vocab():
    """Smoke mode's bert-base-uncased vocab.txt: WordPiece trained on the bundled IMDB sample."""
    from utils.data import cache_dir

    return train_wordpiece(_sample_texts("en"), cache_dir() / "smoke" / "wordpiece-en")


def sample_multilingual_vocab():
    """Smoke mode's bert-base-multilingual-cased vocab.txt: cased WordPiece on the NSMC sample."""
    from utils.data import cache_dir

    return train_wordpiece(_sample_texts("ko"), cache_dir() / "smoke" / "wordpiece-ko-cased",
                           vocab_size=2000, lowercase=False)
