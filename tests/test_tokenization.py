import unicodedata

import pytest
from transformers import BertTokenizerFast

from utils.data import load_imdb, load_nsmc
from utils.tokenization import (KOBERT_SPECIAL_TOKENS, KoBertTokenizer, train_english_wordpiece,
                                train_korean_sentencepiece)


@pytest.fixture(scope="module")
def ko_tokenizer(tmp_path_factory):
    texts = load_nsmc("train")["text"].tolist()
    return KoBertTokenizer(train_korean_sentencepiece(texts, tmp_path_factory.mktemp("spm"), vocab_size=1500))


def test_sentencepiece_has_kobert_special_ids(ko_tokenizer):
    sp = ko_tokenizer.sp
    assert [sp.id_to_piece(i) for i in range(5)] == KOBERT_SPECIAL_TOKENS
    assert (ko_tokenizer.unk_id, ko_tokenizer.pad_id, ko_tokenizer.cls_id, ko_tokenizer.sep_id) == (0, 1, 2, 3)
    assert len(ko_tokenizer) > 300  # learned real pieces from the sample


def test_sentencepiece_learned_subwords(ko_tokenizer):
    text = "이 영화 진짜 재밌어요 ㅋㅋㅋ"
    pieces = ko_tokenizer.tokenize(text)
    assert 1 < len(pieces) < len(text)
    # SentencePiece normalises with NFKC (as KoBERT's model does): ㅋ becomes the choseong ᄏ.
    assert "".join(pieces).replace("▁", " ").strip() == unicodedata.normalize("NFKC", text)


def test_encode_single_and_pair(ko_tokenizer):
    token_ids, segment_ids, valid_length = ko_tokenizer.encode("재밌다", max_len=16)
    assert len(token_ids) == len(segment_ids) == 16
    assert token_ids[0] == 2 and token_ids[valid_length - 1] == 3
    assert token_ids[valid_length:] == [1] * (16 - valid_length) and set(segment_ids) == {0}
    token_ids, segment_ids, valid_length = ko_tokenizer.encode("재밌다", "별로다", max_len=16)
    assert token_ids.count(3) == 2 and segment_ids[:valid_length].count(1) >= 2
    assert segment_ids[valid_length:] == [0] * (16 - valid_length)


def test_encode_truncates_long_text(ko_tokenizer):
    token_ids, _, valid_length = ko_tokenizer.encode("최고의 영화 " * 200, "최악 " * 200, max_len=32)
    assert len(token_ids) == valid_length == 32 and token_ids[-1] == 3
    with pytest.raises(ValueError, match="max_len"):
        ko_tokenizer.encode("좋다", max_len=2)


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
    vocab = train_english_wordpiece(load_imdb("train")["text"], tmp_path, vocab_size=2000)
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
    first = train_english_wordpiece(texts, tmp_path / "a", vocab_size=1500).read_bytes()
    assert train_english_wordpiece(texts, tmp_path / "b", vocab_size=1500).read_bytes() == first


def test_english_wordpiece_covers_every_character_of_its_text(tmp_path):
    tokenizer = BertTokenizerFast.from_pretrained(
        train_english_wordpiece(["zqx jjv wooow", "naïve café"] * 3, tmp_path, vocab_size=60).parent)
    assert "[UNK]" not in tokenizer.tokenize("zzzqqq xvj naive cafe wow")
