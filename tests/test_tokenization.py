import unicodedata

import pytest
from transformers import BertTokenizerFast

from utils.data import load_imdb, load_nsmc
from utils.tokenization import (KOBERT_SPECIAL_TOKENS, KoBertTokenizer, train_wordpiece,
                                train_korean_sentencepiece)


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
