import random
import sys
import unicodedata

import pytest
from transformers import BertTokenizerFast

from utils import tokenization
from utils.data import load_imdb, load_nsmc
from utils.tokenization import (KOBERT_SPECIAL_TOKENS, KoBertTokenizer, TokenIds, bert_basic_words,
                                train_wordpiece, train_korean_sentencepiece)


@pytest.fixture(scope="module")
def sp_model_file(tmp_path_factory):
    texts = load_nsmc("train")["text"].tolist()
    return train_korean_sentencepiece(texts, tmp_path_factory.mktemp("spm"), vocab_size=1500)


@pytest.fixture(scope="module")
def ko_tokenizer(sp_model_file):
    return KoBertTokenizer(sp_model_file)


def test_sentencepiece_has_kobert_special_ids(ko_tokenizer):
    sp = ko_tokenizer.sp
    assert [sp.id_to_piece(i) for i in range(5)] == KOBERT_SPECIAL_TOKENS
    assert (ko_tokenizer.unk_token_id, ko_tokenizer.pad_token_id, ko_tokenizer.cls_token_id,
            ko_tokenizer.sep_token_id, ko_tokenizer.mask_token_id) == (0, 1, 2, 3, 4)
    assert len(ko_tokenizer) > 300  # learned real pieces from the sample


def test_sentencepiece_learned_subwords(ko_tokenizer):
    text = "이 영화 진짜 재밌어요 ㅋㅋㅋ"
    pieces = ko_tokenizer.tokenize(text)
    assert 1 < len(pieces) < len(text)
    # SentencePiece normalises with NFKC (as KoBERT's model does): ㅋ becomes the choseong ᄏ.
    assert "".join(pieces).replace("▁", " ").strip() == unicodedata.normalize("NFKC", text)
    # punctuation is split off as its own word, as BERT's basic tokenization does
    assert ko_tokenizer.tokenize("최고!")[-1] == "▁!"


def test_korean_sentencepiece_is_the_same_every_run(tmp_path):
    texts = load_nsmc("train")["text"]
    import sentencepiece as spm

    def pieces_and_scores(folder):
        sp = spm.SentencePieceProcessor(model_file=str(train_korean_sentencepiece(texts, folder, vocab_size=1000)))
        return [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]

    assert pieces_and_scores(tmp_path / "a") == pieces_and_scores(tmp_path / "b")


def test_call_single_pair_and_padding(ko_tokenizer):
    one = ko_tokenizer("재밌다")
    assert one["input_ids"][0] == 2 and one["input_ids"][-1] == 3 and set(one["token_type_ids"]) == {0}
    assert one["attention_mask"] == [1] * len(one["input_ids"])
    pair = ko_tokenizer("재밌다", "별로다")
    assert pair["input_ids"].count(3) == 2 and pair["token_type_ids"][-1] == 1
    assert pair["token_type_ids"].count(1) == len(ko_tokenizer.tokenize("별로다")) + 1
    batch = ko_tokenizer(["좋다", "배우 연기가 정말 어색해서 몰입이 안 됐다"], padding=True)
    short, long = batch["input_ids"]
    assert len(short) == len(long) and short[-1] == ko_tokenizer.pad_token_id
    assert batch["attention_mask"][0].count(1) == len(ko_tokenizer.encode("좋다"))
    fixed = ko_tokenizer("좋다", max_length=16, padding="max_length")
    assert len(fixed["input_ids"]) == 16 and fixed["token_type_ids"][-1] == 0


def test_call_truncates_long_text_and_checks_its_arguments(ko_tokenizer):
    ids = ko_tokenizer("최고의 영화 " * 400)["input_ids"]
    assert len(ids) == 512 and ids[-1] == 3  # model_max_length by default
    pair = ko_tokenizer("최고의 영화 " * 200, "최악 " * 5, max_length=32)
    assert len(pair["input_ids"]) == 32 and pair["input_ids"][-1] == 3
    assert pair["token_type_ids"].count(1) == len(ko_tokenizer.tokenize("최악 " * 5)) + 1  # longer side cut
    assert len(ko_tokenizer("최고의 영화 " * 200, max_length=32, truncation=False)["input_ids"]) > 32
    with pytest.raises(ValueError, match="max_length"):
        ko_tokenizer("좋다", max_length=2)
    with pytest.raises(ValueError, match="one pair per text"):
        ko_tokenizer(["a", "b"], ["c"])


def _equivalence_sentences():
    """NSMC-style reviews plus the awkward cases: empty after normalisation, emoji, very long,
    mixed Korean and English, accents, full-width and CJK characters, control characters."""
    reviews = load_nsmc("test")["text"].tolist()[:80]
    awkward = [
        "", "   ", "\u0301\u0300", "\x00\ufffd\x0b", "😀", "최고 👍👍👍 진짜 😭😭", "👨‍👩‍👧 가족 영화",
        "재밌다" * 300, "긴 리뷰 " * 400, "Marvel 영화는 역시 CG가 최고 ㅋㅋ", "the acting was SO bad 진짜 별로",
        "café naïve résumé 영화", "ＡＢＣ１２３ 전각 문자！", "韓國 映畫 한자 섞인 리뷰", "1,000원도 아깝다...",
        "아…진짜…별로", "ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ", "ㅠㅠㅠ 슬퍼요ㅜㅜ", "띄어쓰기안하고쓴리뷰도잘되나요",
        "탭\t문자와\n줄바꿈\r도", "'따옴표' \"큰따옴표\" 〈괄호〉 [대괄호]", "10/10 ★★★★★", "♡♥ 사랑해요 ♡♥",
        "(주)회사 ㈜ ㎏ ㎞ ℃", "ＫＯＢＥＲＴ", "e-mail@example.com http://x.y/z?q=1",
    ]
    return reviews + awkward


def test_same_ids_as_gluonnlp_bertsptokenizer_and_sentence_transform(sp_model_file, ko_tokenizer):
    import gluonnlp as nlp
    from utils.gluon import BERTSPTokenizer

    vocab = nlp.vocab.BERTVocab.from_sentencepiece(str(sp_model_file), padding_token="[PAD]")
    gluon_tokenizer = BERTSPTokenizer(str(sp_model_file), vocab, lower=False)
    sentences = _equivalence_sentences()
    assert len(sentences) >= 100
    for max_len in (16, 64, 512):
        single = nlp.data.BERTSentenceTransform(gluon_tokenizer, max_seq_length=max_len, pad=True, pair=False)
        pair = nlp.data.BERTSentenceTransform(gluon_tokenizer, max_seq_length=max_len, pad=True, pair=True)
        for i, text in enumerate(sentences):
            token_ids, valid_length, segment_ids = single((text,))
            ours = ko_tokenizer(text, max_length=max_len, padding="max_length")
            assert ours["input_ids"] == token_ids.tolist(), text
            assert ours["token_type_ids"] == segment_ids.tolist(), text
            assert sum(ours["attention_mask"]) == valid_length, text
            second = sentences[-1 - i]
            if not ko_tokenizer.tokenize(second):  # gluonnlp drops a second sentence with no tokens,
                second = "빈 문장 대신"              # [SEP] and all; we keep BERT's A [SEP] B [SEP] form
            token_ids, valid_length, segment_ids = pair((text, second))
            ours = ko_tokenizer(text, second, max_length=max_len, padding="max_length")
            assert (ours["input_ids"], ours["token_type_ids"]) == (token_ids.tolist(), segment_ids.tolist()), text
            assert sum(ours["attention_mask"]) == valid_length, text


def _random_texts(n, seed):
    """Random strings: NSMC-like Hangul runs with odd characters in them, and strings of anything."""
    rng = random.Random(seed)

    def run(start, end):
        return lambda: chr(rng.randint(start, end))

    def one_of(chars):
        return lambda: rng.choice(chars)

    hangul, jamo = run(0xAC00, 0xD7A3), one_of("ㅋㅎㅠㅜㅡㄷㄱㅏㅣ")
    odd_spaces_and_controls = "\x7f\x85\xa0\xad\u1680\u2000\u200b\u200d\u2028\u2029\u202f\u3000\ufeff\ufffd\u3164\u2581"
    emoji = ["😀", "👍", "👍🏻", "😭", "🔥", "👨\u200d👩\u200d👧", "🇰🇷", "❤️", "♥", "♡", "★", "♬"]
    kinds = [  # (weight, character maker)
        (8, hangul), (2, run(0x3131, 0x318E)), (1, run(0x1100, 0x11FF)), (2, jamo),
        (3, one_of("abcxyzABCXYZ0123456789")), (3, one_of("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")),
        (1, one_of("éèçñüÅøßæœıİǅﬁﬀ¨´¯¸˘˚˜")), (1, run(0x300, 0x36F)),       # accents, combining marks
        (2, one_of("…‥·•「」『』〈〉《》【】‘’“”–—―¡¿※〜～・℃№™㎏㈜①⑴½²")), (2, one_of(emoji)),
        (1, run(0x4E00, 0x9FFF)), (1, run(0xF900, 0xFAFF)), (1, run(0x2F00, 0x2FD5)),  # CJK, Kangxi
        (1, run(0x3200, 0x33FF)), (1, run(0xFF01, 0xFFEE)),                       # enclosed, full width
        (1, run(0xE000, 0xF8FF)), (1, run(0, 0x20)), (1, one_of(odd_spaces_and_controls)),
        (1, lambda: chr(rng.choice([rng.randint(0x20, 0xD7FF), rng.randint(0xE000, 0x2FFFF)]))),  # anything
        (6, one_of(" ")),
    ]
    weights, makers = zip(*kinds)

    def review_char():   # mostly Hangul syllables, a few odd characters
        return (hangul if rng.random() < 0.7 else rng.choice([jamo, *makers]))()

    def text():
        if rng.random() < 0.3:
            return "".join(review_char() for _ in range(rng.randint(1, 40)))
        return "".join(rng.choices(makers, weights)[0]() for _ in range(rng.randint(0, 40)))

    return [text() for _ in range(n)]


@pytest.mark.parametrize("distinct_share, model_drops_spaces", [(-1.0, True), (-1.0, False), (2.0, True)],
                         ids=["whole texts", "whole texts, spaces collapsed by us", "chunk cache"])
def test_same_ids_as_gluonnlp_on_random_strings(sp_model_file, ko_tokenizer, monkeypatch, distinct_share,
                                                model_drops_spaces):
    """Both fast paths (whole plain texts in one SentencePiece call; the chunk cache, with its
    regular expression for plain chunks) change no id, whatever the text."""
    import gluonnlp as nlp
    from utils.gluon import BERTSPTokenizer

    monkeypatch.setattr(tokenization, "_CACHE_BELOW_DISTINCT_SHARE", distinct_share)  # forces one path
    assert ko_tokenizer._drops_extra_spaces                # the probe, on a model trained as usual
    monkeypatch.setattr(ko_tokenizer, "_drops_extra_spaces", model_drops_spaces)
    vocab = nlp.vocab.BERTVocab.from_sentencepiece(str(sp_model_file), padding_token="[PAD]")
    gluon_tokenizer = BERTSPTokenizer(str(sp_model_file), vocab, lower=False)
    texts = _random_texts(400, seed=7) + ["a\x0bb 좋\x1c다 x\x85y", "ㅋㅋ\u2028ㅋ 최고\xa0최고", "ᄏ\u200bㅋ"]
    texts += load_nsmc("train")["text"].tolist()[:200] + ["", " ", " 앞뒤  공백 ", "영화,,정말...(진짜)", "1+1=2!"]
    for max_len in (16, 512):
        single = nlp.data.BERTSentenceTransform(gluon_tokenizer, max_seq_length=max_len, pad=False, pair=False)
        expected = []
        for text in texts:
            token_ids, valid_length, _ = single((text,))
            expected.append(token_ids.tolist()[:valid_length])
        assert ko_tokenizer(texts, max_length=max_len)["input_ids"] == expected   # one call: chunks cached
        assert ko_tokenizer.encode_compact(texts, max_len).tolist() == expected
        assert [ko_tokenizer.encode(text, max_length=max_len) for text in texts] == expected
    pair = nlp.data.BERTSentenceTransform(gluon_tokenizer, max_seq_length=64, pad=True, pair=True)
    seconds = [text if ko_tokenizer.tokenize(text) else "빈 문장 대신" for text in reversed(texts)]
    ours = ko_tokenizer(texts, seconds, max_length=64, padding="max_length")
    for text, second, ids, types in zip(texts, seconds, ours["input_ids"], ours["token_type_ids"]):
        token_ids, _, segment_ids = pair((text, second))
        assert (ids, types) == (token_ids.tolist(), segment_ids.tolist()), text


def test_bert_basic_words_is_gluonnlps_basic_tokenizer():
    import utils.env  # noqa: F401  (numpy aliases for MXNet)
    from gluonnlp.data.fast_bert_tokenizer import BasicTokenizer

    gluon_words = BasicTokenizer(lower=False).tokenize
    code_points = [*range(0, 0x3400), *range(0x3400, 0x30000, 7), *range(0xE000, 0xF900, 97), 0x10FFFD]
    for cp in code_points:
        if not 0xD800 <= cp <= 0xDFFF:
            text = f"a{chr(cp)}b 가{chr(cp)}"
            assert bert_basic_words(text) == gluon_words(text), hex(cp)


def test_whitespace_that_bert_deletes_is_the_set_the_chunk_cache_avoids():
    """The chunk cache encodes the pieces of ``str.split()`` one by one; that is exact wherever
    str.split() cuts and BERT cuts too. The characters where it does not are exactly those
    ``_SPLIT_BUT_DELETED_BY_BERT`` sends the exact way."""
    whitespace = [chr(cp) for cp in range(sys.maxunicode + 1) if chr(cp).isspace()]
    joined = {char for char in whitespace if bert_basic_words(f"a{char}b") == ["ab"]}
    assert all(bert_basic_words(f"a{char}b") in (["ab"], ["a", "b"]) for char in whitespace)
    assert joined == {char for char in whitespace if tokenization._SPLIT_BUT_DELETED_BY_BERT.fullmatch(char)}


def test_plain_chunks_take_the_fast_path_with_the_same_words(ko_tokenizer):
    for chunk in ("영화", "최고!!", "ㅋㅋㅋ", "10/10", "CG가", "(주)", "a-b_c", "뭐야...", "♥", "😀", "최고♡♡", "★★★★☆"):
        assert tokenization._PLAIN_CHUNK.fullmatch(chunk)
        assert ko_tokenizer._words_of_chunk(chunk) == bert_basic_words(chunk), chunk
    for chunk in ("아…", "café", "韓國", "ㅤ", "👍🏻", "❤️", "™", "①", "㉠"):   # these take bert_basic_words
        assert not tokenization._PLAIN_CHUNK.fullmatch(chunk)


def test_every_symbol_on_the_fast_path_is_a_letter_to_bert_and_to_sentencepieces_normaliser(ko_tokenizer):
    """The symbols let onto the fast paths (emoji, ♡, ★, ...) stay inside a word for BERT, and NFKC
    (SentencePiece's normaliser) leaves them alone, so no space appears in a whole text that was not there."""
    symbols = [chr(cp) for cp in [*range(0x2190, 0x2C00), *range(0x1F000, 0x1FB00)]
               if tokenization._PLAIN_CHUNK.fullmatch(chr(cp))]
    assert len(symbols) > 1500 and {"♡", "♥", "★", "♬", "😀", "👍", "🔥", "😭"} <= set(symbols)
    for symbol in symbols:
        chunk = f"{symbol}가{symbol}a,{symbol}"                  # plain, so _words_of_chunk's fast path
        assert ko_tokenizer._words_of_chunk(chunk) == bert_basic_words(chunk), hex(ord(symbol))
        assert unicodedata.normalize("NFKC", symbol) == symbol, hex(ord(symbol))


def test_a_block_of_mostly_distinct_chunks_goes_text_by_text(ko_tokenizer, monkeypatch):
    calls = []
    monkeypatch.setattr(type(ko_tokenizer), "_text_rows", lambda self, texts: calls.append(len(texts)) or
                        [b""] * len(texts))
    list(ko_tokenizer._piece_id_rows(["영화 최고"] * 50))                    # one distinct chunk in 100
    assert calls == []
    list(ko_tokenizer._piece_id_rows([f"리뷰{i} 번호{i}" for i in range(50)]))  # every chunk distinct
    assert calls == [50]


def test_encode_compact_holds_the_same_ids_as_lists(ko_tokenizer, monkeypatch):
    texts = load_nsmc("train")["text"].tolist()[:300] + ["", "😀", "최고 " * 100]
    as_lists = ko_tokenizer(texts, max_length=24)["input_ids"]
    compact = ko_tokenizer.encode_compact(texts, max_length=24)
    assert isinstance(compact, TokenIds) and len(compact) == len(texts) and compact.flat.dtype.name == "int32"
    assert compact.tolist() == as_lists and list(compact) == as_lists
    assert compact[-1] == as_lists[-1] and len(compact[-1]) == 24 and compact[len(texts) - 3] == [2, 3]
    assert compact[10:20].tolist() == as_lists[10:20] and compact[5:5].tolist() == []
    assert compact[::50] == as_lists[::50]
    assert compact.lengths().tolist() == [len(ids) for ids in as_lists]
    with pytest.raises(IndexError):
        compact[len(texts)]
    with pytest.raises(TypeError, match="list of texts"):
        ko_tokenizer.encode_compact("한 문장")
    # a cache that fills up and is emptied between blocks changes nothing
    monkeypatch.setattr(tokenization, "_CACHE_BELOW_DISTINCT_SHARE", 2.0)   # every block takes the cache
    monkeypatch.setattr(tokenization, "_MAX_CACHED_CHUNKS", 10)
    rows = ko_tokenizer._piece_id_rows(texts, block_size=7)
    assert [[2] + list(memoryview(row).cast("i"))[:22] + [3] for row in rows] == as_lists


def test_gluonnlp_bertsptokenizer_is_repaired_for_todays_sentencepiece(sp_model_file):
    import gluonnlp as nlp
    from utils.gluon import BERTSPTokenizer

    vocab = nlp.vocab.BERTVocab.from_sentencepiece(str(sp_model_file), padding_token="[PAD]")
    with pytest.raises(ValueError, match="nbest_size"):  # gluonnlp's own, on sentencepiece 0.2
        nlp.data.BERTSPTokenizer(str(sp_model_file), vocab, lower=False)("좋은 영화")
    assert BERTSPTokenizer(str(sp_model_file), vocab, lower=False)("좋은 영화!")[-1] == "▁!"


def test_save_and_load_pretrained(ko_tokenizer, tmp_path):
    ko_tokenizer.save_pretrained(tmp_path / "tok")
    reloaded = KoBertTokenizer.from_pretrained(tmp_path / "tok")
    text = "다시 불러와도 같은 ID가 나와야 합니다 😀"
    assert reloaded(text) == ko_tokenizer(text)
    assert reloaded.decode(reloaded.encode("좋은 영화")) == "좋은 영화"
    with pytest.raises(FileNotFoundError, match="spiece.model"):
        KoBertTokenizer.from_pretrained(tmp_path)


def test_model_without_kobert_ids_is_rejected(tmp_path):
    import sentencepiece as spm
    spm.SentencePieceTrainer.train(sentence_iterator=iter(load_nsmc("train")["text"]), vocab_size=800,
                                   model_prefix=str(tmp_path / "plain"), hard_vocab_limit=False, minloglevel=2)
    with pytest.raises(ValueError, match="ids 0-4"):
        KoBertTokenizer(tmp_path / "plain.model")


def test_training_needs_text(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        train_korean_sentencepiece(["", "  "], tmp_path)


def test_english_wordpiece_vocab_works_with_transformers(tmp_path):
    vocab = train_wordpiece(load_imdb("train")["text"], tmp_path, vocab_size=2000)
    lines = vocab.read_text(encoding="utf-8").splitlines()
    assert lines[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert any(line.startswith("##") for line in lines)
    # from_pretrained(folder) works on transformers 4.5x and 5.x; BertTokenizerFast(vocab_file=...)
    # silently ignores the file on 5.x and gives a 5-token vocabulary.
    tokenizer = BertTokenizerFast.from_pretrained(vocab.parent)
    assert len(tokenizer) == len(lines)
    encoded = tokenizer("This movie was GREAT", "A waste of time")
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 2 and "movie" in tokens
    assert encoded["token_type_ids"][-1] == 1


def test_english_wordpiece_is_the_same_every_run(tmp_path):
    texts = load_imdb("train")["text"]
    first = train_wordpiece(texts, tmp_path / "a", vocab_size=1500).read_bytes()
    assert train_wordpiece(texts, tmp_path / "b", vocab_size=1500).read_bytes() == first


def test_english_wordpiece_covers_every_character_of_its_text(tmp_path):
    tokenizer = BertTokenizerFast.from_pretrained(
        train_wordpiece(["zqx jjv wooow", "naïve café"] * 3, tmp_path, vocab_size=60).parent)
    assert "[UNK]" not in tokenizer.tokenize("zzzqqq xvj naive cafe wow")


def test_cased_wordpiece_keeps_case_and_hangul(tmp_path):
    texts = load_nsmc("train")["text"].tolist() + ["Marvel 영화는 Café에서"]
    tokenizer = BertTokenizerFast.from_pretrained(train_wordpiece(texts, tmp_path, 800, lowercase=False).parent)
    tokens = tokenizer.tokenize("Marvel 영화 Café")
    assert tokens[0].startswith("M") and "영화" in tokens and "é" in "".join(tokens)
    assert "[UNK]" not in tokens


def test_training_a_vocabulary_refuses_a_text_that_is_not_a_string(tmp_path):
    from utils import tokenization
    with pytest.raises(TypeError, match=r"texts\[1\] is float \(nan\), not a string.*NaN"):
        tokenization.train_korean_sentencepiece(["좋은 영화", float("nan")], tmp_path)
    with pytest.raises(ValueError, match="at least one non-empty string"):
        tokenization.train_korean_sentencepiece(["", "   "], tmp_path)
