"""Tokenizers: KoBERT's, and the small ones smoke mode trains at run time on the bundled samples.

``KoBertTokenizer`` reads a KoBERT SentencePiece model (skt/kobert-base-v1's ``spiece.model``,
or one trained here whose special tokens sit where KoBERT's do: ``[UNK]``=0, ``[PAD]``=1,
``[CLS]``=2, ``[SEP]``=3, ``[MASK]``=4). English and multilingual BERTs use a WordPiece
``vocab.txt``, read by transformers' ``BertTokenizerFast``.
"""
import json
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
    """Train a unigram SentencePiece model with KoBERT's special-token ids; return its path.

    It learns from the words KoBertTokenizer will give it: text split by BERT's basic
    tokenization (punctuation apart, case kept).
    """
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalize = BertNormalizer(strip_accents=True, lowercase=False).normalize_str
    split = BertPreTokenizer().pre_tokenize_str
    lines = [" ".join(word for word, _ in split(normalize(text))) for text in _check_texts(texts)]
    prefix = Path(out_dir) / "spiece"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(prefix), vocab_size=vocab_size,
        model_type="unigram", character_coverage=0.9995, hard_vocab_limit=False,
        unk_id=0, unk_piece="[UNK]", pad_id=1, pad_piece="[PAD]", bos_id=-1, eos_id=-1,
        control_symbols=KOBERT_SPECIAL_TOKENS[2:], num_threads=1, minloglevel=2)
    prefix.with_suffix(".vocab").unlink()
    return prefix.with_suffix(".model")


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
    config = {"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase, "strip_accents": lowercase}
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return out_dir / "vocab.txt"


class KoBertTokenizer:
    """KoBERT's tokenizer, as gluonnlp's ``BERTSPTokenizer`` + ``BERTSentenceTransform`` run it.

    1. BERT's basic tokenization, keeping case: drop control characters, decompose (NFD) and
       drop accents, split on whitespace and punctuation.
    2. Each word -> SentencePiece pieces (the model first normalises with NFKC).
    3. ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``; the ids are the SentencePiece ids
       (KoBERT's vocabulary is its SentencePiece model: [UNK]=0, [PAD]=1, [CLS]=2, [SEP]=3, [MASK]=4).

    It has the parts of the transformers tokenizer API the book uses (``__call__``,
    ``pad_token_id``, ``save_pretrained``/``from_pretrained``, ...) but does not import
    transformers, so it behaves the same on every transformers version.
    """

    model_file = "spiece.model"   # the name in skt/kobert-base-v1 and in a saved folder
    model_max_length = 512

    def __init__(self, sp_model_file):
        from tokenizers.normalizers import BertNormalizer
        from tokenizers.pre_tokenizers import BertPreTokenizer

        self.sp = spm.SentencePieceProcessor(model_file=str(sp_model_file))
        ids = [self.sp.piece_to_id(t) for t in KOBERT_SPECIAL_TOKENS]
        if ids != list(range(len(KOBERT_SPECIAL_TOKENS))):
            raise ValueError(f"{sp_model_file} does not place {KOBERT_SPECIAL_TOKENS} at ids 0-4 "
                             f"as KoBERT does (found {ids}).")
        self.unk_token_id, self.pad_token_id, self.cls_token_id, self.sep_token_id, self.mask_token_id = ids
        self.unk_token, self.pad_token, self.cls_token, self.sep_token, self.mask_token = KOBERT_SPECIAL_TOKENS
        self._normalize = BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                         strip_accents=True, lowercase=False).normalize_str
        self._split = BertPreTokenizer().pre_tokenize_str

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
        return [word for word, _ in self._split(self._normalize(text))]

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

    def _piece_ids(self, texts):
        """Piece ids per text: one SentencePiece call for all the words of all the texts."""
        words = [self._words(text) for text in texts]
        flat = self.sp.encode([w for ws in words for w in ws])
        out, start = [], 0
        for ws in words:
            out.append([i for ids in flat[start:start + len(ws)] for i in ids])
            start += len(ws)
        return out

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
        max_length = max_length or self.model_max_length
        if max_length < 3 + (pairs is not None):
            raise ValueError(f"max_length={max_length} leaves no room for tokens besides [CLS]/[SEP].")
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
