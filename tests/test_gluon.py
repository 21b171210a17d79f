"""utils.gluon: the HF converter, batching, the training loop, evaluation, prediction, saving."""
import json
import subprocess
import sys

import numpy as np
import pytest

from utils import gluon as G  # imports utils.env first, so mxnet sees the numpy aliases
import gluonnlp as nlp
import mxnet as mx

from conftest import ROOT
from utils.prediction import Prediction

CPU = mx.cpu()
TINY = dict(num_layers=1, units=8, hidden_size=16, num_heads=2, max_length=512,
            token_type_vocab_size=2, dropout=0.0, layer_norm_eps=1e-12)
WORDS = ["good", "bad", "movie", "great", "awful", "plot", "fun", "boring", "the", "a"]


# ----------------------------------------------------------------------------- helpers

def tiny_tokenizer():
    vocab = G.bert_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS)
    return nlp.data.BERTTokenizer(vocab, lower=True)


def tiny_net(seed=0, num_classes=2, dropout=0.0):
    mx.random.seed(seed)
    bert = G.build_bert(TINY, len(tiny_tokenizer().vocab), ctx=CPU)
    return G.BERTClassifier(bert, num_classes=num_classes, dropout=dropout)


def weights(net):
    return {name: p.data().asnumpy().copy() for name, p in net._collect_params_with_prefix().items()}


def same_weights(a, b, atol=1e-6):
    return all(np.allclose(a[k], b[k], atol=atol) for k in a)


def samples(lengths, labels=None):
    """(token_ids, valid_length, segment_ids, label) with [CLS] words... [SEP] of these lengths."""
    out = []
    for i, length in enumerate(lengths):
        ids = np.array([2] + [5 + (i + j) % len(WORDS) for j in range(length - 2)] + [3], "int32")
        label = labels[i] if labels is not None else i % 2
        out.append((ids, np.array(length, "int32"), np.zeros(length, "int32"), label))
    return out


def hf_tiny(seed=0, vocab_size=30):
    import torch
    import transformers
    config = transformers.BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=32,
                                     max_position_embeddings=64)
    torch.manual_seed(seed)
    model = transformers.BertModel(config).eval()
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return model, config.to_dict(), state


def hf_outputs(model, ids, types, valid_length):
    import torch
    mask = (np.arange(ids.shape[1])[None] < valid_length[:, None]).astype("int64")
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids), token_type_ids=torch.tensor(types),
                    attention_mask=torch.tensor(mask))
    return out.last_hidden_state.numpy(), out.pooler_output.numpy()


def assert_same_outputs(bert, vocab, hf_model, hf_tokens):
    # a padded batch: the first sequence is shorter than the batch
    hf_ids = np.array([[2, 7, 8, 9, 3, 0, 0, 0], [2, 10, 11, 12, 3, 13, 14, 3]])
    types = np.array([[0] * 8, [0, 0, 0, 0, 0, 1, 1, 1]])
    valid_length = np.array([5, 8])
    gluon_ids = np.vectorize(lambda i: vocab[hf_tokens[i]])(hf_ids)
    hf_seq, hf_pooled = hf_outputs(hf_model, hf_ids, types, valid_length)
    seq, pooled = bert(mx.nd.array(gluon_ids), mx.nd.array(types), mx.nd.array(valid_length))
    for b, n in enumerate(valid_length):  # padded positions differ by design (Gluon zeroes them)
        np.testing.assert_allclose(seq.asnumpy()[b, :n], hf_seq[b, :n], atol=1e-4)
    np.testing.assert_allclose(pooled.asnumpy(), hf_pooled, atol=1e-4)


# ----------------------------------------------------------------------------- converter

@pytest.mark.torch
def test_converted_bert_gives_the_same_outputs_as_transformers():
    hf_model, hf_config, state = hf_tiny()
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(25)]
    bert, vocab = G.convert_hf_bert(state, hf_config, tokens, ctx=CPU)
    assert G.bert_config(bert)["num_layers"] == 2
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))  # ids kept as in vocab.txt
    assert_same_outputs(bert, vocab, hf_model, tokens)


@pytest.mark.torch
def test_converter_reads_old_names_with_bert_prefix_and_ignores_heads():
    hf_model, hf_config, state = hf_tiny(seed=1)
    old = {"bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma")
           .replace("LayerNorm.bias", "LayerNorm.beta"): v for k, v in state.items()}
    assert any(k.endswith("LayerNorm.gamma") for k in old)
    old["cls.predictions.bias"] = np.zeros(30, "float32")
    old["bert.embeddings.position_ids"] = np.arange(64)[None]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(25)]
    bert, vocab = G.convert_hf_bert(old, hf_config, tokens, ctx=CPU)
    assert_same_outputs(bert, vocab, hf_model, tokens)


@pytest.mark.torch
def test_converter_keeps_each_tokens_vector_whatever_the_vocab_order():
    hf_model, hf_config, state = hf_tiny(seed=2)
    # special tokens last and scattered: not the order gluonnlp's Vocab would choose
    tokens = [f"w{i}" for i in range(20)] + ["[SEP]", "w20", "[MASK]", "w21", "[CLS]",
                                             "w22", "[UNK]", "w23", "w24", "[PAD]"]
    bert, vocab = G.convert_hf_bert(state, hf_config, tokens, ctx=CPU)
    table = bert.word_embed[0].weight.data().asnumpy()
    hf_table = state["embeddings.word_embeddings.weight"]
    for hf_id, token in enumerate(tokens):
        np.testing.assert_array_equal(table[vocab[token]], hf_table[hf_id])
    assert vocab.padding_token == "[PAD]" and vocab.cls_token == "[CLS]"


@pytest.mark.torch
def test_converter_names_missing_weights():
    _, hf_config, state = hf_tiny()
    del state["pooler.dense.weight"]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(25)]
    with pytest.raises(KeyError, match="pooler.dense.weight"):
        G.convert_hf_bert(state, hf_config, tokens, ctx=CPU)


@pytest.mark.torch
def test_full_mode_loads_the_converted_hf_checkpoint(tmp_path, monkeypatch):
    """No network here: hf_hub_download serves a tiny local checkpoint; the dead zoo is never asked."""
    import huggingface_hub
    from safetensors.numpy import save_file

    hf_model, hf_config, state = hf_tiny(seed=3)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(25)]
    (tmp_path / "config.json").write_text(json.dumps(hf_config))
    (tmp_path / "vocab.txt").write_text("\n".join(tokens) + "\n")
    save_file({"bert." + k: v for k, v in state.items()}, str(tmp_path / "model.safetensors"))

    def no_zoo(*args, **kwargs):
        raise AssertionError("gluonnlp's model zoo (dead since 2024) must not be asked")

    monkeypatch.setattr(nlp.model, "get_model", no_zoo)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda repo, name: str(tmp_path / name))
    monkeypatch.setenv("BOOK_MODE", "full")
    bert, tokenizer = G.load_bert("en", ctx=CPU)
    assert_same_outputs(bert, tokenizer.vocab, hf_model, tokens)


def test_load_bert_smoke_and_unknown_language(monkeypatch):
    from transformers import BertTokenizerFast
    from utils import tokenization

    # WordPiece training is not deterministic (ties break differently per run): train once
    vocab_file = tokenization.sample_english_vocab()
    monkeypatch.setattr(tokenization, "sample_english_vocab", lambda: vocab_file)
    bert, tokenizer = G.load_bert("en", ctx=CPU)
    assert G.bert_config(bert) == G.SMOKE_BERT
    assert isinstance(tokenizer.vocab, nlp.vocab.BERTVocab)
    assert tokenizer("GREAT Movie")[0] == "great"  # lowercased
    # the same ids as the PyTorch chapters' smoke tokenizer
    text = "This movie was unbelievably boring, wasn't it?"
    transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=64, pad=False, pair=False)
    hf_tokenizer = BertTokenizerFast.from_pretrained(vocab_file.parent)
    assert transform((text,))[0].tolist() == hf_tokenizer(text)["input_ids"]
    with pytest.raises(ValueError, match="'ko'"):
        G.load_bert("fr")


@pytest.mark.torch
def test_load_bert_ko_smoke_gives_the_same_ids_as_the_pytorch_kobert_tokenizer():
    from utils.pytorch import load_bert

    bert, tokenizer = G.load_bert("ko", ctx=CPU)
    assert isinstance(tokenizer, G.BERTSPTokenizer) and G.bert_config(bert) == G.SMOKE_BERT
    assert bert.word_embed[0].weight.shape[0] == len(tokenizer.vocab)
    _, kobert_tokenizer = load_bert("ko")
    transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=64, pad=False, pair=False)
    for text in ("Marvel 영화 진짜 재밌다 ㅋㅋ 😍", "배우들연기가별로... 1점도 아까움"):
        assert transform((text,))[0].tolist() == kobert_tokenizer(text, max_length=64)["input_ids"]


def test_saved_korean_classifier_keeps_its_sentencepiece_tokenizer(tmp_path):
    bert, tokenizer = G.load_bert("ko", ctx=CPU)
    net = G.BERTClassifier(bert)
    texts = ["ㅋㅋㅋ 개꿀잼 👍", "시간 아까움ㅠㅠ", "CG는 world class 스토리는 별로"]
    before = G.predict_sentiment(net, tokenizer, texts, label_names=("부정", "긍정"), ctx=CPU)
    G.save_classifier(net, tokenizer, tmp_path / "ko")
    assert (tmp_path / "ko" / "spiece.model").is_file()
    net2, tokenizer2 = G.load_classifier(tmp_path / "ko", ctx=CPU)
    assert isinstance(tokenizer2, G.BERTSPTokenizer) and tokenizer2(texts[0]) == tokenizer(texts[0])
    after = G.predict_sentiment(net2, tokenizer2, texts, label_names=("부정", "긍정"), ctx=CPU)
    assert [p.label for p in after] == [p.label for p in before]
    np.testing.assert_allclose([p.probability for p in after], [p.probability for p in before], rtol=1e-6)


@pytest.mark.torch
def test_full_mode_kobert_loads_the_converted_hf_checkpoint(tmp_path, monkeypatch):
    """KoBERT's repository has pytorch_model.bin and spiece.model; the vocabulary is the SP model's."""
    import huggingface_hub
    import torch
    from huggingface_hub.utils import EntryNotFoundError
    from utils import tokenization

    sp_model_file = tokenization.train_korean_sentencepiece(
        ["좋은 영화", "나쁜 영화", "그냥 그래요"] * 5, tmp_path, vocab_size=30)
    tokens = G._sentencepiece_tokens(sp_model_file)
    hf_model, hf_config, state = hf_tiny(seed=4, vocab_size=len(tokens))
    (tmp_path / "config.json").write_text(json.dumps(hf_config))
    torch.save({k: torch.from_numpy(v) for k, v in state.items()}, tmp_path / "pytorch_model.bin")

    def download(repo, name):
        if not (tmp_path / name).is_file():
            raise EntryNotFoundError(f"{name} is not in {repo}")
        return str(tmp_path / name)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setenv("BOOK_MODE", "full")
    bert, tokenizer = G.load_bert("ko", ctx=CPU)
    assert isinstance(tokenizer, G.BERTSPTokenizer)
    assert list(tokenizer.vocab.idx_to_token) == tokens
    assert_same_outputs(bert, tokenizer.vocab, hf_model, tokens)


# ----------------------------------------------------------------------------- batching

def test_dataloader_pads_each_batch_to_its_longest_or_to_fixed_len():
    data = samples([3, 5, 9])
    batches = list(G.make_loader(data, batch_size=2, pad_id=0))
    assert [b[0].shape for b in batches] == [(2, 5), (1, 9)]
    token_ids, valid_length, segment_ids, labels = batches[0]
    assert valid_length.asnumpy().tolist() == [3, 5]
    assert token_ids.asnumpy()[0, 3:].tolist() == [0, 0] and segment_ids.shape == (2, 5)
    assert labels.asnumpy().tolist() == [0, 1]
    fixed = list(G.make_loader(data, batch_size=2, pad_id=1, fixed_len=16))
    assert [b[0].shape for b in fixed] == [(2, 16), (1, 16)]
    assert fixed[1][0].asnumpy()[0, 9:].tolist() == [1] * 7
    with pytest.raises(ValueError, match="fixed_len=4"):
        G.make_loader(data, batch_size=2, pad_id=0, fixed_len=4)


def test_bucketing_keeps_every_sample_once_and_pads_per_batch():
    lengths = [3, 40, 4, 41, 5, 42, 6, 43]
    batches = list(G.make_loader(samples(lengths), batch_size=2, pad_id=0, shuffle=True,
                                     num_buckets=2))
    seen = sorted(int(v) for b in batches for v in b[1].asnumpy())
    assert seen == sorted(lengths)
    for token_ids, valid_length, _, _ in batches:
        assert token_ids.shape[1] == int(valid_length.max().asscalar())
        assert token_ids.shape[1] < 10 or valid_length.min().asscalar() >= 40  # similar lengths


# ----------------------------------------------------------------------------- training

def run(net, loader, valid, **options):
    defaults = dict(epochs=1, lr=1e-2, warmup_ratio=0.0, schedule="constant", weight_decay=0.0,
                    max_grad_norm=None, ctx=CPU)
    defaults.update(options)
    return G.train_loop(net, loader, valid, **defaults)


def test_accumulating_two_batches_of_two_equals_one_batch_of_four():
    data = samples([4, 6, 5, 7, 8, 3], labels=[0, 1, 1, 0, 1, 0])
    valid = G.make_loader(data, 6, 0)
    start = weights(tiny_net())

    def trained(batch_size, accumulation_steps, subset):
        net = tiny_net()
        run(net, G.make_loader(subset, batch_size, 0), valid, lr=1e-3,
            accumulation_steps=accumulation_steps)
        return weights(net)

    # Adam moves every weight by about lr per step (1e-3 here); float rounding, about 1e-7
    big = trained(4, 1, data[:4])  # one update: batch 4 vs two batches of 2
    assert same_weights(trained(2, 2, data[:4]), big, atol=1e-5)
    assert not same_weights(trained(2, 1, data[:4]), big, atol=1e-5)  # the test can tell
    assert not same_weights(big, start, atol=1e-5)
    # 6 samples: updates of 4, then 2 samples (the last group has one batch and still updates);
    # a loop that averaged per batch instead of per group would weigh the two updates differently
    assert same_weights(trained(2, 2, data), trained(4, 1, data), atol=1e-5)


TWO_CPUS = [mx.cpu(0), mx.cpu(1)]  # two MXNet contexts on one CPU: data parallelism without GPUs


def test_two_contexts_make_the_same_update_as_one_context_with_the_whole_batch(monkeypatch):
    # 7 samples of uneven lengths in one batch: split_and_load(even_split=False) gives the
    # contexts 4 and 3 of them, so a loop that averaged each context's gradient over its own
    # part (instead of over all 7) would weigh the samples unequally and move the weights
    # elsewhere; with an even split that mistake would only scale the gradient, which Adam
    # nearly ignores, but not the global norm that clipping computes (recorded here).
    data = samples([4, 9, 5, 12, 3, 7, 6], labels=[0, 1, 1, 0, 1, 0, 1])
    loader = G.make_loader(data, 7, 0)
    norms, grad_copies, clip = [], [], nlp.utils.clip_grad_global_norm

    def recording_clip(params, max_norm):  # train_loop calls it after allreduce_grads()
        grad_copies.append([[grad.asnumpy() for grad in p.list_grad()] for p in params])
        norm = clip(params, max_norm)
        norms.append(float(norm.asscalar()))
        return norm

    monkeypatch.setattr(nlp.utils, "clip_grad_global_norm", recording_clip)
    start = weights(tiny_net())
    one, two = tiny_net(), tiny_net()  # the same initial weights, on one CPU context
    run(one, loader, loader, lr=1e-3, max_grad_norm=1e-3)  # clipping at work: the norm is larger
    run(two, loader, loader, lr=1e-3, max_grad_norm=1e-3, ctx=TWO_CPUS)

    assert len(norms) == 2 and norms[0] > 0.05
    assert norms[1] == pytest.approx(norms[0], rel=1e-6)  # the gradient of all 7 samples, once
    # every context's copy of every gradient is the same sum (equal copies + equal gradients:
    # equal updates); the weights' copies below are equal anyway, since train_loop ends by
    # restoring the best epoch's weights into every copy
    assert all(len(copies) == 2 and np.array_equal(*copies) for copies in grad_copies[1])
    one_weights = weights(one)
    assert not same_weights(one_weights, start, atol=1e-5)  # one update moved the weights
    for name, param in two._collect_params_with_prefix().items():
        copy_0, copy_1 = (array.asnumpy() for array in param.list_data())
        assert param.list_ctx() == TWO_CPUS
        np.testing.assert_array_equal(copy_0, copy_1)
        # float32 rounding differs with the parts' shapes: 1e-6 relative (1e-9 absolute near 0)
        np.testing.assert_allclose(copy_0, one_weights[name], rtol=1e-6, atol=1e-9, err_msg=name)


def test_evaluate_and_predict_on_two_contexts_agree_with_one():
    net, tokenizer = tiny_net(seed=6), tiny_tokenizer()
    # a tiny random BERT gives every text almost the same [CLS] vector: larger output weights
    # spread the probabilities, so that comparing them in order can tell texts apart
    for weight in (net.bert.pooler.weight, net.classifier.weight):
        weight.set_data(weight.data() * 30)
    data = samples([4, 6, 5, 7, 8])
    loader = G.make_loader(data, 2, 0)  # the last batch has 1 sample: fewer than contexts
    net.collect_params().reset_ctx(TWO_CPUS)
    on_two = G.evaluate(net, loader, ctx=TWO_CPUS)
    assert on_two == pytest.approx(G.evaluate(net, loader, ctx=CPU), rel=1e-6)
    texts = ["a great fun movie", "boring plot", "bad", "the plot"]  # batch_size 3: 2+1, then 1
    on_two = G.predict_sentiment(net, tokenizer, texts, batch_size=3, ctx=TWO_CPUS)
    on_one = G.predict_sentiment(net, tokenizer, texts, batch_size=3, ctx=CPU)
    assert np.diff(sorted(p.probability for p in on_one)).min() > 2e-6  # the texts differ
    assert [p.label for p in on_two] == [p.label for p in on_one]  # in the texts' order
    np.testing.assert_allclose([p.probability for p in on_two], [p.probability for p in on_one],
                               rtol=1e-6)


def test_no_weight_decay_on_layer_norm_and_biases():
    net = tiny_net()
    loader = G.make_loader(samples([4, 5]), 2, 0)
    run(net, loader, loader, weight_decay=0.01)
    params = net.collect_params()
    assert params[[n for n in params if n.endswith("layernorm0_gamma")][0]].wd_mult == 0
    assert all(p.wd_mult == 0 for n, p in params.items() if n.endswith("bias"))
    assert params[[n for n in params if n.endswith("word_embed_embedding0_weight")][0]].wd_mult == 1


@pytest.mark.parametrize("use_checkpoint", [False, True])
def test_early_stopping_restores_the_best_epoch(tmp_path, use_checkpoint):
    train = G.make_loader(samples([4, 6, 5, 7], labels=[0, 1, 1, 0]), 2, 0)
    # the same input twice with opposite labels: validation accuracy is 0.5 whatever happens
    twin = samples([5])[0]
    valid = G.make_loader([twin, (*twin[:3], 1 - twin[3])], 2, 0)
    one_epoch = tiny_net()
    run(one_epoch, train, valid, epochs=1)
    more = tiny_net()  # control: training on after epoch 1 moves the weights
    run(more, train, valid, epochs=1)
    run(more, train, valid, epochs=2)

    net = tiny_net()
    checkpoint = tmp_path / "best.params" if use_checkpoint else None
    history = run(net, train, valid, epochs=10, patience=2, checkpoint=checkpoint)
    assert history["epoch"] == [1, 2, 3]  # 1 + patience epochs, not 10
    assert history["valid_acc"] == [0.5, 0.5, 0.5]
    assert history["best_epoch"] == 1
    assert set(history) >= {"train_loss", "train_acc", "valid_loss", "lr", "seconds"}
    assert same_weights(weights(net), weights(one_epoch))
    assert not same_weights(weights(net), weights(more))
    assert checkpoint is None or checkpoint.is_file()


def test_evaluate_weights_every_sample_equally():
    net = tiny_net(num_classes=2)
    data = samples([4, 6, 5, 7, 8])
    # predict each sample on its own, then label them so that only the last (a batch of
    # one) is wrong: per sample 4/5 correct, a mean of batch means would say (1+1+0)/3
    logits = [net(mx.nd.array(s[0][None]), mx.nd.array(s[2][None]), mx.nd.array([s[1]]))
              for s in data]
    predicted = [int(x.argmax(axis=1).asscalar()) for x in logits]
    labels = predicted[:4] + [1 - predicted[4]]
    data = [(*s[:3], y) for s, y in zip(data, labels)]
    probs = [mx.nd.softmax(x).asnumpy()[0] for x in logits]
    expected_loss = np.mean([-np.log(p[y]) for p, y in zip(probs, labels)])
    result = G.evaluate(net, G.make_loader(data, 2, 0), ctx=CPU)
    assert result["n"] == 5
    assert result["accuracy"] == pytest.approx(0.8)
    assert result["loss"] == pytest.approx(expected_loss, abs=1e-5)


# ----------------------------------------------------------------------------- prediction

def test_predict_sentiment_checks_its_input_and_truncates():
    net, tokenizer = tiny_net(dropout=0.5), tiny_tokenizer()
    one = G.predict_sentiment(net, tokenizer, "a great movie", ctx=CPU)
    assert isinstance(one, Prediction) and one.label in ("negative", "positive")
    assert 0.5 <= one.probability <= 1
    assert G.predict_sentiment(net, tokenizer, "a great movie", ctx=CPU) == one  # dropout off
    many = G.predict_sentiment(net, tokenizer, ["good", "bad plot", "the movie"], ctx=CPU)
    assert isinstance(many, list) and len(many) == 3 and all(isinstance(p, Prediction) for p in many)
    assert many[0] == G.predict_sentiment(net, tokenizer, "good", ctx=CPU)  # batching changes nothing
    long_text = " ".join(["boring"] * 5000)
    assert isinstance(G.predict_sentiment(net, tokenizer, long_text, ctx=CPU), Prediction)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        G.predict_sentiment(net, tokenizer, ["good", 3], ctx=CPU)
    with pytest.raises(ValueError, match=r"texts\[0\]"):
        G.predict_sentiment(net, tokenizer, [""], ctx=CPU)
    with pytest.raises(ValueError, match=r"texts\[2\]"):
        G.predict_sentiment(net, tokenizer, ["good", "bad", "   "], ctx=CPU)
    with pytest.raises(ValueError, match="one name per class"):
        G.predict_sentiment(net, tokenizer, "good", label_names=("neg", "neutral", "pos"), ctx=CPU)
    with pytest.raises(ValueError, match="max_len=1000"):
        G.predict_sentiment(net, tokenizer, "good", max_len=1000, ctx=CPU)


def test_predict_batches_texts_by_length_and_answers_in_the_input_order(monkeypatch):
    net, tokenizer = tiny_net(), tiny_tokenizer()
    texts = ["a long and rather slow movie about nothing " * (n % 5 + 1) for n in range(9)]
    alone = [G.predict_sentiment(net, tokenizer, text, ctx=CPU).probability for text in texts]
    widths = []
    make_loader = G.make_loader
    monkeypatch.setattr(G, "make_loader", lambda samples, *a, **k: widths.extend(
        int(s[1]) for s in samples) or make_loader(samples, *a, **k))
    together = [p.probability for p in G.predict_sentiment(net, tokenizer, texts, batch_size=2, ctx=CPU)]
    assert together == pytest.approx(alone, abs=1e-5)       # each answer at its own text's place
    assert widths == sorted(widths)                         # short texts first: little padding


def test_more_than_two_classes():
    net = tiny_net(num_classes=3)
    data = samples([4, 5, 6], labels=[0, 1, 2])
    history = run(net, G.make_loader(data, 2, 0), G.make_loader(data, 2, 0), epochs=1)
    assert len(history["valid_acc"]) == 1
    label = G.predict_sentiment(net, tiny_tokenizer(), "fun", label_names=("a", "b", "c"), ctx=CPU)
    assert label.label in ("a", "b", "c")


def test_saved_classifier_gives_the_same_probabilities_in_a_fresh_process(tmp_path):
    net, tokenizer = tiny_net(seed=5, dropout=0.3), tiny_tokenizer()
    texts = ["a great fun movie", "boring plot", "bad"]
    before = [p.probability for p in G.predict_sentiment(net, tokenizer, texts, ctx=CPU)]
    G.save_classifier(net, tokenizer, tmp_path / "model")
    script = (
        "import json, sys\n"
        "from utils import gluon as G\n"
        "import mxnet as mx\n"
        f"net, tok = G.load_classifier(sys.argv[1], ctx=mx.cpu())\n"
        f"print(json.dumps([p.probability for p in G.predict_sentiment(net, tok, {texts!r}, ctx=mx.cpu())]))\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "model")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    after = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(after, before, rtol=1e-6)
    with pytest.raises(FileNotFoundError, match="save_classifier"):
        G.load_classifier(tmp_path / "nowhere")


def test_two_contexts_train_on_a_batch_with_fewer_samples_than_contexts():
    loader = G.make_loader(samples([4, 9, 5], labels=[0, 1, 1]), 2, 0)  # batches of 2 and 1
    one, two = tiny_net(), tiny_net()
    run(one, loader, loader, lr=1e-3)
    run(two, loader, loader, lr=1e-3, ctx=TWO_CPUS)   # the second batch leaves cpu(1) without a sample
    assert same_weights(weights(one), weights(two), atol=1e-6)


# ----------------------------------------------------------------------------- load_tokenizer

def test_load_tokenizer_gives_load_berts_tokenizer_without_building_a_model(monkeypatch):
    from utils import tokenization

    vocab_file = tokenization.sample_english_vocab()  # WordPiece training is not deterministic: once
    monkeypatch.setattr(tokenization, "sample_english_vocab", lambda: vocab_file)
    texts = {"en": ("This movie was unbelievably boring, wasn't it?", "I'd watch it again."),
             "ko": ("Marvel 영화 진짜 재밌다 ㅋㅋ 😍", "배우들연기가별로... 1점도 아까움")}
    expected = {}
    for lang, pair in texts.items():
        _, tokenizer = G.load_bert(lang, ctx=CPU)
        transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=64, pad=False, pair=True)
        expected[lang] = [a.tolist() for a in transform(pair)]

    def no_model(*args, **kwargs):
        raise AssertionError("load_tokenizer built a model")

    monkeypatch.setattr(G, "build_bert", no_model)
    for lang, pair in texts.items():
        tokenizer = G.load_tokenizer(lang)
        assert isinstance(tokenizer, G.BERTSPTokenizer if lang == "ko" else nlp.data.BERTTokenizer)
        transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=64, pad=False, pair=True)
        assert [a.tolist() for a in transform(pair)] == expected[lang]
    with pytest.raises(ValueError, match="'ko'"):
        G.load_tokenizer("fr")


def test_load_tokenizer_full_mode_downloads_the_vocabulary_only(tmp_path, monkeypatch):
    import huggingface_hub

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "movie", "##s"]
    (tmp_path / "vocab.txt").write_text("\n".join(tokens) + "\n")
    asked = []

    def download(repo, name):
        asked.append((repo, name))
        return str(tmp_path / name)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(G, "_pretrained_bert", lambda *a, **k: pytest.fail("loaded the model"))
    monkeypatch.setenv("BOOK_MODE", "full")
    tokenizer = G.load_tokenizer("en")
    assert asked == [("bert-base-uncased", "vocab.txt")]
    assert list(tokenizer.vocab.idx_to_token) == tokens  # vocab.txt's ids, unchanged
    assert tokenizer("Good MOVIES") == ["good", "movie", "##s"]

    def offline(repo, name):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(ConnectionError, match="skt/kobert-base-v1.*BOOK_MODE=smoke"):
        G.load_tokenizer("ko")


def test_a_non_finite_loss_stops_training_with_the_place_and_cause():
    data = samples([4, 6, 5, 7], labels=[0, 1, 1, 0])
    loader = G.make_loader(data, 2, 0)
    plain, calls = mx.gluon.loss.SoftmaxCrossEntropyLoss(), []

    def loss_turning_bad(logits, labels):  # finite for epoch 1's two batches, NaN at epoch 2's first
        calls.append(mx.autograd.is_recording())  # training batches; evaluation does not record
        loss = plain(logits, labels)
        return loss * float("nan") if sum(calls) == 3 and calls[-1] else loss

    net = tiny_net()
    with pytest.raises(FloatingPointError, match=r"^epoch 2, batch 1 of 2: the training loss is nan.*lr=0\.01"):
        run(net, loader, loader, epochs=2, loss_fn=loss_turning_bad)
    assert all(np.isfinite(w).all() for w in weights(net).values())  # the bad update was never made


def test_every_update_uses_the_mean_gradient_of_its_samples(monkeypatch):
    # The gradients themselves, not the weights after an Adam step: Adam's first step hardly
    # changes when the gradient is scaled, so a loop that summed instead of averaging over
    # accumulated batches or contexts would pass a comparison of weights.
    data = samples([4, 9, 5, 12], labels=[0, 1, 1, 0])
    recorded, clip = [], nlp.utils.clip_grad_global_norm

    def recording_clip(params, max_norm):  # train_loop calls it with the gradients of one update
        recorded.append([p.list_grad()[0].asnumpy().copy() for p in params])
        return clip(params, max_norm)

    monkeypatch.setattr(nlp.utils, "clip_grad_global_norm", recording_clip)
    for batch_size, accumulation_steps, ctx in ((4, 1, CPU), (2, 2, CPU), (4, 1, TWO_CPUS), (2, 2, TWO_CPUS)):
        run(tiny_net(), G.make_loader(data, batch_size, 0), G.make_loader(data, 4, 0),
            accumulation_steps=accumulation_steps, max_grad_norm=1e9, ctx=ctx)

    net = tiny_net()  # the same initial weights; the mean loss of all four samples, by hand
    token_ids, valid_length, segment_ids, labels = (x.as_in_context(CPU) for x in next(iter(G.make_loader(data, 4, 0))))
    with mx.autograd.record():
        loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()(net(token_ids, segment_ids, valid_length), labels).mean()
    loss.backward()
    expected = [p.grad().asnumpy() for p in net.collect_params().values() if p.grad_req != "null"]
    assert len(recorded) == 4
    for gradients in recorded:
        assert len(gradients) == len(expected)
        for got, want in zip(gradients, expected):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_predict_sentiment_answers_an_empty_list_and_refuses_impossible_sizes():
    net, tokenizer = tiny_net(), tiny_tokenizer()
    assert G.predict_sentiment(net, tokenizer, [], ctx=CPU) == []
    with pytest.raises(ValueError, match="batch_size=0: give a whole number of texts per batch"):
        G.predict_sentiment(net, tokenizer, ["good"], batch_size=0, ctx=CPU)
    with pytest.raises(ValueError, match=r"max_len=2: give 3 or more tokens"):
        G.predict_sentiment(net, tokenizer, ["good"], max_len=2, ctx=CPU)


def test_damaged_or_foreign_saved_folders_say_which_file_and_which_loader(tmp_path):
    folder = G.save_classifier(tiny_net(), tiny_tokenizer(), tmp_path / "run")
    (tmp_path / "torch").mkdir()
    for name in ("config.json", "classifier.json", "classifier.pt"):
        (tmp_path / "torch" / name).write_text("x")
    with pytest.raises(ValueError, match=r"saved by utils.pytorch, not by utils.gluon: load it with utils.pytorch"):
        G.load_classifier(tmp_path / "torch", ctx=CPU)
    params = (folder / "model.params").read_bytes()
    (folder / "model.params").write_bytes(params[: len(params) // 2])
    with pytest.raises(ValueError, match=r"model.params is damaged and cannot be read"):
        G.load_classifier(folder, ctx=CPU)


def test_the_smoke_bert_is_one_configuration_in_both_frameworks():
    """utils.gluon's SMOKE_BERT is derived from utils.recipe's, which utils.pytorch uses as it is."""
    from utils import recipe
    assert G.SMOKE_BERT == dict(num_layers=2, units=64, hidden_size=256, num_heads=2, max_length=512,
                                token_type_vocab_size=2, dropout=0.1, layer_norm_eps=1e-12)
    assert G.SMOKE_BERT == G.gluon_config(recipe.SMOKE_BERT)
    bert = G.build_bert(G.SMOKE_BERT, 100, CPU)
    assert G.bert_config(bert) == G.SMOKE_BERT   # the model built has exactly this shape


@pytest.mark.torch
def test_pytorch_smoke_bert_is_the_same_configuration():
    from transformers import BertConfig

    from utils import pytorch, recipe
    assert pytorch.SMOKE_BERT is recipe.SMOKE_BERT
    hf = BertConfig(vocab_size=100, **recipe.SMOKE_BERT).to_dict()
    assert G.gluon_config(hf) == G.SMOKE_BERT   # transformers' defaults fill in what gluon_config reads


def test_predict_gives_every_class_probability_and_agrees_with_predict_sentiment():
    net, tokenizer = tiny_net(num_classes=3), tiny_tokenizer()
    texts = ["good", "bad plot", "the movie was long"]
    names = ("none", "offensive", "hate")
    table = G.predict(net, tokenizer, texts, label_names=names, batch_size=2, ctx=CPU)
    assert list(table.columns) == ["text", "label", *names] and table["text"].tolist() == texts
    np.testing.assert_allclose(table[list(names)].sum(axis=1), 1, rtol=1e-5)
    for row, prediction in zip(table.itertuples(index=False),
                               G.predict_sentiment(net, tokenizer, texts, label_names=names, ctx=CPU)):
        assert row.label == prediction.label
        assert getattr(row, prediction.label) == pytest.approx(prediction.probability, rel=1e-5)
    assert len(G.predict(net, tokenizer, [], label_names=names, ctx=CPU)) == 0


# ----------------------------------------------------------------------------- chapter 60: prediction at scale, export

TEXTS_60 = ["a great fun movie", "boring plot", "bad", "the movie was long and the plot was awful", "fun",
            "good good good movie with a great plot", " ".join(["boring"] * 50)]


def spread_net(seed):
    """A tiny net whose probabilities differ from text to text: with BERT's usual Normal(0.02)
    a tiny random BERT gives every text almost the same [CLS] vector; Normal(0.5) spreads them."""
    net = tiny_net(seed=seed)
    net.collect_params().initialize(mx.init.Normal(0.5), force_reinit=True, ctx=CPU)
    return net


def chapter_60():
    from utils.saved import chapter_code
    return chapter_code("60_prediction_gluon")


def test_prediction_hybridizes_the_net_and_agrees_with_the_eager_net():
    hybridized, eager, tokenizer = spread_net(7), spread_net(7), tiny_tokenizer()
    to_ids = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=16, pad=False, pair=False)
    expected = []
    with mx.autograd.pause(train_mode=False):
        for text in TEXTS_60:                                   # one text at a time, imperatively
            token_ids, valid_length, segment_ids = to_ids((text,))
            logits = eager(mx.nd.array([token_ids], dtype="int32"), mx.nd.array([segment_ids], dtype="int32"),
                           mx.nd.array([valid_length], dtype="float32"))
            expected.append(mx.nd.softmax(logits).asnumpy()[0])
    assert not eager._active
    expected = np.array(expected)
    assert np.ptp(expected[:, 1]) > 0.05                        # the texts get different answers
    table = G.predict(hybridized, tokenizer, TEXTS_60, ("negative", "positive"), max_len=16, batch_size=3, ctx=CPU)
    assert hybridized._active and hybridized._cached_op is not None  # predict hybridized it and ran the graph
    np.testing.assert_allclose(table[["negative", "positive"]].to_numpy(), expected, atol=1e-5)
    cached_op = hybridized._cached_op
    G.predict_sentiment(hybridized, tokenizer, TEXTS_60[:2], max_len=16, ctx=CPU)
    assert hybridized._cached_op is cached_op                   # hybridized once: the graph is kept


def test_chapter_60_predict_probabilities_agrees_with_predict_in_the_input_order():
    chapter, net, tokenizer = chapter_60(), spread_net(8), tiny_tokenizer()
    ours = chapter.predict_probabilities(net, tokenizer, TEXTS_60, max_len=16, batch_size=2, ctx=CPU)
    table = G.predict(net, tokenizer, TEXTS_60, ("negative", "positive"), max_len=16, batch_size=5, ctx=CPU)
    np.testing.assert_allclose(ours, table[["negative", "positive"]].to_numpy(), atol=1e-5)
    alone = np.concatenate([chapter.predict_probabilities(net, tokenizer, [text], 16, ctx=CPU) for text in TEXTS_60])
    np.testing.assert_allclose(ours, alone, atol=1e-5)
    assert np.ptp(alone[:, 1]) > 0.05                           # a mix-up of rows would show


def test_exported_symbolblock_gives_the_same_probabilities_as_the_net(tmp_path):
    chapter, net, tokenizer = chapter_60(), spread_net(9), tiny_tokenizer()
    names = ("bad", "good")
    expected = G.predict(net, tokenizer, TEXTS_60, names, max_len=12, ctx=CPU)[list(names)].to_numpy()
    folder = chapter.export_classifier(net, tokenizer, tmp_path / "export", names, 12)
    assert sorted(p.name for p in folder.iterdir()) == ["model-0000.params", "model-symbol.json",
                                                        "prediction.json", "vocab.json"]
    block, exported_tokenizer, settings = chapter.load_exported(folder, ctx=CPU)
    assert isinstance(block, mx.gluon.SymbolBlock) and not isinstance(block, G.BERTClassifier)
    assert settings["label_names"] == list(names) and settings["max_len"] == 12   # the long text is cut at 12
    assert exported_tokenizer.vocab.idx_to_token == tokenizer.vocab.idx_to_token
    got = chapter.predict_probabilities(block, exported_tokenizer, TEXTS_60, settings["max_len"], ctx=CPU)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.ptp(expected[:, 1]) > 0.05


def test_exported_folder_predicts_in_a_fresh_process_without_utils_gluon(tmp_path):
    chapter, net, tokenizer = chapter_60(), spread_net(10), tiny_tokenizer()
    folder = chapter.export_classifier(net, tokenizer, tmp_path / "export", ("negative", "positive"), 64)
    expected = chapter.predict_probabilities(net, tokenizer, TEXTS_60, 64, ctx=CPU)
    script = ("import json, sys\n"
              "from utils.saved import chapter_code\n"
              "chapter = chapter_code('60_prediction_gluon')\n"
              "block, tokenizer, settings = chapter.load_exported(sys.argv[1])\n"
              "p = chapter.predict_probabilities(block, tokenizer, json.loads(sys.argv[2]), settings['max_len'])\n"
              "print(json.dumps({'p': p.tolist(), 'utils.gluon': 'utils.gluon' in sys.modules}))\n")
    result = subprocess.run([sys.executable, "-c", script, str(folder), json.dumps(TEXTS_60)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["utils.gluon"] is False                       # the folder, not the book's classifier
    np.testing.assert_allclose(answer["p"], expected, atol=1e-5)


def test_gluon_predict_file_writes_what_predict_gives_and_keeps_line_numbers(tmp_path, monkeypatch):
    import pandas as pd

    net, tokenizer = spread_net(11), tiny_tokenizer()
    texts = [f"{TEXTS_60[i % len(TEXTS_60)]} {WORDS[i % len(WORDS)]}" for i in range(11)]
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    chunks, text_probabilities = [], G._text_probabilities
    monkeypatch.setattr(G, "_text_probabilities", lambda net, tokenizer, texts, *rest: chunks.append(len(texts))
                        or text_probabilities(net, tokenizer, texts, *rest))
    count = G.predict_file(net, tokenizer, source, tmp_path / "out.csv", label_names=("neg", "pos"), max_len=16,
                           batch_size=3, ctx=CPU, chunk_size=4)
    monkeypatch.undo()
    assert count == 11 and chunks == [4, 4, 3]                  # three chunks, the last one short
    table = pd.read_csv(tmp_path / "out.csv")
    expected = G.predict(net, tokenizer, texts, ("neg", "pos"), max_len=16, batch_size=5, ctx=CPU)
    assert list(table.columns) == ["line", "label", "neg", "pos"]
    assert table["line"].tolist() == list(range(1, 12))
    assert table["label"].tolist() == expected["label"].tolist()
    np.testing.assert_allclose(table[["neg", "pos"]].to_numpy(), expected[["neg", "pos"]].to_numpy(), atol=1e-6)
    assert np.ptp(expected["pos"]) > 0.05                       # rows in the wrong order would not pass
