"""utils.pytorch: batching, the attention mask, train_loop, evaluate, predict_sentiment, save/load."""
import copy
import json
import os
import resource
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from utils import pytorch as ut
from utils.prediction import Prediction

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bert_and_tokenizer():
    torch.manual_seed(0)
    return ut.load_bert("en")


@pytest.fixture()
def classifier(bert_and_tokenizer):
    bert, tokenizer = bert_and_tokenizer
    torch.manual_seed(0)
    return ut.BERTClassifier(bert, num_classes=2, dropout=0.5).eval(), tokenizer


class FeatureNet(nn.Module):
    """A linear classifier on precomputed features: the same call shape as BERTClassifier's head."""

    def __init__(self, weight=None):
        super().__init__()
        self.classifier = nn.Linear(3, 2)
        if weight is not None:
            with torch.no_grad():
                self.classifier.weight.copy_(weight)
                self.classifier.bias.zero_()

    def forward(self, features):
        return self.classifier(features)


def toy_data(n=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=generator), torch.tensor([0, 1] * (n // 2) + [1] * (n % 2))


# ---------------------------------------------------------------- loading and batching

def test_load_bert_smoke_is_tiny_and_matches_the_tokenizer(bert_and_tokenizer):
    bert, tokenizer = bert_and_tokenizer
    assert bert.config.hidden_size == ut.SMOKE_BERT["hidden_size"]
    assert bert.config.vocab_size == len(tokenizer)
    assert tokenizer.cls_token_id != tokenizer.pad_token_id


def test_load_bert_rejects_an_unknown_language():
    with pytest.raises(ValueError, match="lang='xx'"):
        ut.load_bert("xx")


def test_pad_batch_pads_to_the_longest_in_the_batch_or_to_fixed_len():
    samples = [([2, 5, 3], 1), ([2, 7, 8, 9, 3], 0)]
    batch = ut.pad_batch(samples, pad_id=0)
    assert batch["token_ids"].tolist() == [[2, 5, 3, 0, 0], [2, 7, 8, 9, 3]]
    assert batch["valid_length"].tolist() == [3, 5] and batch["label"].tolist() == [1, 0]
    assert ut.pad_batch(samples, pad_id=0, fixed_len=8)["token_ids"].shape == (2, 8)


def test_length_grouped_batches_cover_every_sample_once_and_cut_padding():
    lengths = torch.randint(3, 200, (500,), generator=torch.Generator().manual_seed(1)).tolist()
    sampler = ut.LengthGroupedBatchSampler(lengths, batch_size=16, chunk=10)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert len(sampler) == len(batches)

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)
    random_batches = [list(range(i, min(i + 16, 500))) for i in range(0, 500, 16)]
    assert padding(batches) < 0.3 * padding(random_batches)
    sampler.set_epoch(1)
    assert list(sampler) != batches  # a new order every epoch


def test_padding_does_not_change_the_logits(classifier):
    model, tokenizer = classifier
    token_ids = ut.encode(tokenizer, ["a fine movie with a great cast"], 64)
    short = ut.pad_batch([(token_ids[0], 0)], tokenizer.pad_token_id)
    long = ut.pad_batch([(token_ids[0], 0)], tokenizer.pad_token_id, fixed_len=40)
    inputs = lambda b: {k: v for k, v in b.items() if k != "label"}  # noqa: E731
    with torch.no_grad():
        assert torch.allclose(model(**inputs(short)), model(**inputs(long)), atol=1e-5)


def test_parameter_groups_split_head_body_and_no_decay(classifier):
    model, _ = classifier
    groups = {g["name"]: g for g in ut.parameter_groups(model, lr=2e-5, head_lr=1e-3, weight_decay=0.01)}
    assert groups[("body", False)]["lr"] == 2e-5 and groups[("head", False)]["lr"] == 1e-3
    assert groups[("body", True)]["weight_decay"] == 0.0 and groups[("body", False)]["weight_decay"] == 0.01
    no_decay = {id(p) for p in groups[("body", True)]["params"]}
    for name, param in model.bert.named_parameters():
        assert (id(param) in no_decay) == (name.endswith("bias") or "LayerNorm" in name), name
    ut.freeze_bert(model)
    assert {g["name"][0] for g in ut.parameter_groups(model, lr=2e-5)} == {"head"}


# ---------------------------------------------------------------- train_loop and evaluate

def test_accumulating_two_batches_of_two_equals_one_batch_of_four():
    # Plain SGD, whose step is proportional to the gradient: Adam's first step hardly changes
    # when the gradient is scaled, so with Adam a loop that summed instead of averaging the
    # accumulated batches would pass this test.
    features, labels = toy_data(4)
    common = dict(epochs=1, warmup_ratio=0.0, schedule="constant", max_grad_norm=1e9,
                  device=torch.device("cpu"))
    nets = []
    for batch_size, accumulation in ((4, 1), (2, 2)):
        torch.manual_seed(0)
        net = FeatureNet()
        loader = ut.make_feature_loader(features, labels, batch_size)
        ut.train_loop(net, loader, loader, accumulation_steps=accumulation,
                      optimizer=torch.optim.SGD(net.parameters(), lr=0.5), **common)
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    torch.manual_seed(0)
    assert not torch.allclose(FeatureNet().classifier.weight, nets[0].classifier.weight)  # it trained


def test_a_short_last_accumulation_group_still_updates():
    class CountingSGD(torch.optim.SGD):
        updates = 0

        def step(self, closure=None):
            CountingSGD.updates += 1
            return super().step(closure)

    features, labels = toy_data(5)
    net = FeatureNet()
    loader = ut.make_feature_loader(features, labels, 2)  # 3 batches -> groups of 2 and 1
    ut.train_loop(net, loader, loader, epochs=1, optimizer=CountingSGD(net.parameters(), lr=0.1),
                  accumulation_steps=2, warmup_ratio=0.0, schedule="constant",
                  device=torch.device("cpu"))
    assert CountingSGD.updates == 2


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(monkeypatch):
    features, labels = toy_data(8)
    loader = ut.make_feature_loader(features, labels, 4)
    scripted = iter([0.5, 0.8, 0.6, 0.7, 0.9, 0.9])
    snapshots = []

    def fake_evaluate(model, *args, **kwargs):
        snapshots.append(model.classifier.weight.detach().clone())
        return {"loss": 1.0, "accuracy": next(scripted), "n": 8}
    monkeypatch.setattr(ut, "evaluate", fake_evaluate)
    net = FeatureNet()
    history = ut.train_loop(net, loader, loader, epochs=6, lr=0.5, patience=2, warmup_ratio=0.0,
                            schedule="constant", device=torch.device("cpu"))
    assert history["epoch"] == [1, 2, 3, 4] and history["best_epoch"] == 2
    assert not torch.equal(snapshots[1], snapshots[3])  # training did change the weights
    assert torch.equal(net.classifier.weight, snapshots[1])


def test_evaluate_weights_by_samples_with_an_uneven_last_batch():
    features = torch.tensor([[1., 0, 0], [1., 0, 0], [1., 0, 0], [1., 0, 0], [1., 0, 0]])
    labels = torch.tensor([0, 0, 1, 1, 1])  # the net always says 0: per batch of 2 -> 1, 0, 0
    net = FeatureNet(weight=torch.tensor([[1., 0, 0], [0., 0, 0]]))
    result = ut.evaluate(net, ut.make_feature_loader(features, labels, 2), device=torch.device("cpu"))
    logits = net(features)
    assert result["n"] == 5
    assert result["accuracy"] == pytest.approx(0.4)  # a mean of per-batch accuracies would say 1/3
    assert result["loss"] == pytest.approx(nn.functional.cross_entropy(logits, labels).item())


def test_train_loop_history_and_checkpoint(tmp_path):
    features, labels = toy_data(8)
    loader = ut.make_feature_loader(features, labels, 4, shuffle=True)
    history = ut.train_loop(FeatureNet(), loader, loader, epochs=3, lr=0.1,
                            device=torch.device("cpu"), checkpoint=tmp_path / "best.pt")
    assert history["epoch"] == [1, 2, 3]
    assert all(len(history[k]) == 3 for k in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"))
    assert history["lr"][-1] == pytest.approx(0.0)  # linear decay ends at zero
    assert set(torch.load(tmp_path / "best.pt")) == {"classifier.weight", "classifier.bias"}


# ---------------------------------------------------------------- training checkpoints

RESUME_TEXTS = ["a great film", "awful and dull", "the best movie this year", "boring plot",
                "i loved the actors", "a waste of time", "great great great", "not good at all",
                "what a wonderful story", "the worst ending", "fun", "bad"]


def _resume_run(bert_and_tokenizer, tmp_path, **options):
    """Train a dropout BERT classifier for 3 epochs (shuffled, length-grouped, cosine, warmup)."""
    bert, tokenizer = bert_and_tokenizer
    torch.manual_seed(options.pop("init_seed", 0))
    model = ut.BERTClassifier(copy.deepcopy(bert), num_classes=2, dropout=0.3)
    token_ids = ut.encode(tokenizer, RESUME_TEXTS, 16)
    labels = [0, 1] * 6
    train = ut.make_loader(token_ids, labels, 4, tokenizer.pad_token_id, shuffle=True, seed=3)
    valid = ut.make_loader(token_ids, labels, 5, tokenizer.pad_token_id)
    torch.manual_seed(1)  # the dropout draws
    history = ut.train_loop(model, train, valid, epochs=3, lr=1e-3, schedule="cosine",
                            warmup_ratio=0.3, device=torch.device("cpu"), **options)
    return model, history


def _same_run(a, b):
    (model_a, history_a), (model_b, history_b) = a, b
    params_equal = all(torch.equal(x, y) for x, y in zip(model_a.state_dict().values(),
                                                          model_b.state_dict().values()))
    histories_equal = all(history_a[k] == history_b[k] for k in history_a if k != "seconds")
    return params_equal and histories_equal


def test_resuming_after_one_epoch_ends_exactly_like_an_uninterrupted_run(bert_and_tokenizer, tmp_path):
    state = tmp_path / "state.pt"
    uninterrupted = _resume_run(bert_and_tokenizer, tmp_path)
    first = _resume_run(bert_and_tokenizer, tmp_path, save_state=state, stop_after=1)
    assert first[1]["epoch"] == [1]
    # a fresh process would start from other random numbers and other weights: resume must restore both
    torch.manual_seed(123)
    resumed = _resume_run(bert_and_tokenizer, tmp_path, resume_from=state, init_seed=7)
    assert resumed[1]["epoch"] == [1, 2, 3]
    assert _same_run(uninterrupted, resumed)
    saved = torch.load(state, weights_only=True)  # tensors and plain values only: no pickled objects
    assert saved["epoch"] == 1 and {"model", "optimizer", "scheduler", "random"} <= set(saved)


def test_resuming_without_the_random_states_would_not_be_exact(bert_and_tokenizer, tmp_path, monkeypatch):
    state = tmp_path / "state.pt"
    uninterrupted = _resume_run(bert_and_tokenizer, tmp_path)
    _resume_run(bert_and_tokenizer, tmp_path, save_state=state, stop_after=1)
    monkeypatch.setattr(ut, "set_random_states", lambda states: torch.manual_seed(123))
    resumed = _resume_run(bert_and_tokenizer, tmp_path, resume_from=state)
    assert not _same_run(uninterrupted, resumed)  # dropout drew other masks after the restart


def test_resume_rejects_other_settings_and_a_missing_file(bert_and_tokenizer, tmp_path):
    state = tmp_path / "state.pt"
    features, labels = toy_data(8)
    loader = ut.make_feature_loader(features, labels, 4, shuffle=True)
    ut.train_loop(FeatureNet(), loader, loader, epochs=2, lr=0.1, device=torch.device("cpu"),
                  save_state=state, stop_after=1)
    with pytest.raises(ValueError, match=r"epochs: saved 2, now 5"):
        ut.train_loop(FeatureNet(), loader, loader, epochs=5, lr=0.1, device=torch.device("cpu"),
                      resume_from=state)
    with pytest.raises(FileNotFoundError, match="save_state"):
        ut.train_loop(FeatureNet(), loader, loader, epochs=2, device=torch.device("cpu"),
                      resume_from=tmp_path / "missing.pt")


# ---------------------------------------------------------------- predict_sentiment

def test_predict_one_text_or_a_list(classifier):
    model, tokenizer = classifier
    one = ut.predict_sentiment(model, tokenizer, "this movie is so great")
    assert isinstance(one, Prediction) and one.label in ("negative", "positive")
    assert 0.5 <= one.probability <= 1.0
    many = ut.predict_sentiment(model, tokenizer, ["great", "awful", "this movie is so great"],
                                batch_size=2)
    assert len(many) == 3 and many[2] == pytest.approx(one)


def test_predict_batches_texts_by_length_and_answers_in_the_input_order(classifier, monkeypatch):
    model, tokenizer = classifier
    texts = ["a long and rather slow film about nothing much at all " * (n % 5 + 1) for n in range(9)]
    alone = [ut.predict_sentiment(model, tokenizer, text).probability for text in texts]
    widths = []
    pad_batch = ut.pad_batch
    monkeypatch.setattr(ut, "pad_batch", lambda samples, *a, **k: widths.append(
        max(len(ids) for ids, _ in samples)) or pad_batch(samples, *a, **k))
    together = [p.probability for p in ut.predict_sentiment(model, tokenizer, texts, batch_size=2)]
    assert together == pytest.approx(alone, abs=1e-5)       # each answer at its own text's place
    assert widths == sorted(widths) and len(widths) == 5    # short texts first: little padding


def test_predict_is_deterministic_and_leaves_training_mode_alone(classifier):
    model, tokenizer = classifier
    model.train()  # dropout 0.5: predictions would vary if predict forgot eval mode
    first = ut.predict_sentiment(model, tokenizer, ["a dull and silly plot"] * 4)
    assert all(p == first[0] for p in first)
    assert model.training


@pytest.mark.parametrize("texts, error, where", [
    (["fine", 3], TypeError, r"texts\[1\]"),
    (["fine", None], TypeError, r"texts\[1\]"),
    (["", "fine"], ValueError, r"texts\[0\]"),
    (["fine", "ok", "  \n\t"], ValueError, r"texts\[2\]"),
    (42, TypeError, "string or a list"),
])
def test_predict_rejects_bad_texts_naming_the_index(classifier, texts, error, where):
    model, tokenizer = classifier
    with pytest.raises(error, match=where):
        ut.predict_sentiment(model, tokenizer, texts)


def test_predict_needs_one_label_name_per_class(classifier):
    model, tokenizer = classifier
    with pytest.raises(ValueError, match="one name per class"):
        ut.predict_sentiment(model, tokenizer, "fine", label_names=["neg", "neu", "pos"])


def test_predict_truncates_overlong_text(classifier):
    model, tokenizer = classifier
    long_review = "this film is long and slow " * 1000  # far beyond 512 positions
    assert isinstance(ut.predict_sentiment(model, tokenizer, long_review), Prediction)


# ---------------------------------------------------------------- save and load

def reload_in_a_fresh_process(folder, texts):
    """``(tokenizer class name, probabilities)`` from load_classifier in a new Python process."""
    script = ("import json, sys; from utils.pytorch import load_classifier, predict_sentiment; "
              "m, t = load_classifier(sys.argv[1]); print(type(t).__name__); "
              "print(json.dumps([p.probability for p in predict_sentiment(m, t, json.loads(sys.argv[2]))]))")
    out = subprocess.run([sys.executable, "-c", script, str(folder), json.dumps(texts)],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    name, probabilities = out.stdout.strip().splitlines()[-2:]
    return name, json.loads(probabilities)


def test_saved_classifier_gives_the_same_probabilities_in_a_fresh_process(classifier, tmp_path):
    model, tokenizer = classifier
    texts = ["what a wonderful film", "i want my two hours back"]
    expected = [p.probability for p in ut.predict_sentiment(model, tokenizer, texts)]
    ut.save_classifier(model, tokenizer, tmp_path / "clf")
    _, probabilities = reload_in_a_fresh_process(tmp_path / "clf", texts)
    assert probabilities == pytest.approx(expected, abs=1e-6)


def test_load_classifier_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="classifier.pt"):
        ut.load_classifier(tmp_path)


# ---------------------------------------------------------------- Korean: KoBERT and multilingual BERT

KOREAN_REVIEWS = ["ㅋㅋㅋㅋㅋㅋ 개웃김 ㅋㅋㅋㅋ", "최고예요 👍👍😍😍", "Marvel 영화 중에 CG는 top class",
                  "띄어쓰기를안해도분류가되나요", "배 우 들 연 기 가 별 로", "ㅠㅠㅠ 돈 아까움...!!!", "😡",
                  "진짜 " * 600]


@pytest.fixture(scope="module")
def korean_classifier():
    torch.manual_seed(0)
    bert, tokenizer = ut.load_bert("ko")
    return ut.BERTClassifier(bert, num_classes=2).eval(), tokenizer


def test_load_bert_ko_smoke_uses_the_kobert_tokenizer(korean_classifier):
    from utils.tokenization import KoBertTokenizer

    model, tokenizer = korean_classifier
    assert isinstance(tokenizer, KoBertTokenizer)
    assert model.bert.config.vocab_size == len(tokenizer)
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id) == (2, 3, 1)


def test_load_bert_multilingual_is_one_parameter_away():
    bert, tokenizer = ut.load_bert("ko", model_name="bert-base-multilingual-cased")
    assert bert.config.vocab_size == len(tokenizer)
    assert "영화" in tokenizer.tokenize("영화 최고") and tokenizer.pad_token_id == 0  # WordPiece, cased


def test_korean_predict_handles_slang_emoji_english_and_spacing(korean_classifier):
    model, tokenizer = korean_classifier
    predictions = ut.predict_sentiment(model, tokenizer, KOREAN_REVIEWS, label_names=("부정", "긍정"))
    assert len(predictions) == len(KOREAN_REVIEWS)
    assert all(p.label in ("부정", "긍정") and 0.5 <= p.probability <= 1 for p in predictions)
    assert predictions[1] == ut.predict_sentiment(model, tokenizer, KOREAN_REVIEWS[1], label_names=("부정", "긍정"))


@pytest.mark.parametrize("texts, error, where", [
    (["좋아요", 3.5], TypeError, r"texts\[1\]"),
    (["좋아요", "   "], ValueError, r"texts\[1\]"),
    (["", "별로"], ValueError, r"texts\[0\]"),
])
def test_korean_predict_rejects_bad_texts_naming_the_index(korean_classifier, texts, error, where):
    model, tokenizer = korean_classifier
    with pytest.raises(error, match=where):
        ut.predict_sentiment(model, tokenizer, texts)


def test_saved_korean_classifier_reloads_its_kobert_tokenizer_in_a_fresh_process(korean_classifier, tmp_path):
    model, tokenizer = korean_classifier
    expected = [p.probability for p in ut.predict_sentiment(model, tokenizer, KOREAN_REVIEWS)]
    ut.save_classifier(model, tokenizer, tmp_path / "clf")
    name, probabilities = reload_in_a_fresh_process(tmp_path / "clf", KOREAN_REVIEWS)
    assert name == "KoBertTokenizer"
    assert probabilities == pytest.approx(expected, abs=1e-6)


def test_predict_gives_every_class_probability_and_agrees_with_predict_sentiment(bert_and_tokenizer):
    bert, tokenizer = bert_and_tokenizer
    torch.manual_seed(0)
    model = ut.BERTClassifier(bert, num_classes=3).eval()
    names = ["none", "offensive", "hate"]
    texts = ["great", "awful plot", "i hate this so much"]
    table = ut.predict(model, tokenizer, texts, names)
    assert list(table.columns) == ["text", "label"] + names and table["text"].tolist() == texts
    assert table[names].sum(axis=1).tolist() == pytest.approx([1.0] * 3)
    assert table["label"].tolist() == table[names].idxmax(axis=1).tolist()
    one_best = ut.predict_sentiment(model, tokenizer, texts, label_names=names)
    assert [p.label for p in one_best] == table["label"].tolist()
    assert [p.probability for p in one_best] == pytest.approx(table[names].max(axis=1).tolist())
    with pytest.raises(ValueError, match="2 label names"):
        ut.predict(model, tokenizer, texts, ["a", "b"])


def test_predict_file_writes_what_predict_gives_line_by_line(classifier, tmp_path):
    model, tokenizer = classifier
    texts = ["a fine film", "dull and long, far too long", "ok", "the best acting of the year"] * 3
    (tmp_path / "reviews.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    assert ut.predict_file(model, tokenizer, tmp_path / "reviews.txt", tmp_path / "out.csv", chunk_size=5) == 12
    written = pd.read_csv(tmp_path / "out.csv")
    table = ut.predict(model, tokenizer, texts, ["negative", "positive"])
    assert written["line"].tolist() == list(range(1, 13))
    assert written["label"].tolist() == table["label"].tolist()
    assert np.allclose(written[["negative", "positive"]], table[["negative", "positive"]], atol=1e-6)


def test_predict_probabilities_are_the_softmax_of_predict_logits(classifier):
    model, tokenizer = classifier
    loader = ut.make_loader(ut.encode(tokenizer, ["a fine film", "dull", "far too long and dull"], 32),
                            [1, 0, 0], 2, tokenizer.pad_token_id)
    logits, labels = ut.predict_logits(model, loader, device=torch.device("cpu"))
    probabilities, same_labels = ut.predict_probabilities(model, loader, device=torch.device("cpu"))
    assert logits.shape == (3, 2) and labels.tolist() == same_labels.tolist() == [1, 0, 0]
    assert torch.allclose(logits.softmax(-1), probabilities) and not torch.allclose(logits, probabilities)


def test_predict_probabilities_covers_the_loader_in_order(bert_and_tokenizer):
    bert, tokenizer = bert_and_tokenizer
    torch.manual_seed(0)
    model = ut.BERTClassifier(bert, num_classes=3, dropout=0.5).train()  # must switch to eval itself
    texts, labels = RESUME_TEXTS[:7], [0, 1, 2, 0, 1, 2, 0]
    loader = ut.make_loader(ut.encode(tokenizer, texts, 32), labels, 3, tokenizer.pad_token_id)
    probabilities, got_labels = ut.predict_probabilities(model, loader, device=torch.device("cpu"))
    assert probabilities.shape == (7, 3) and got_labels.tolist() == labels
    expected = ut.predict(model, tokenizer, texts, ["a", "b", "c"], max_len=32)[["a", "b", "c"]]
    assert probabilities.numpy() == pytest.approx(expected.to_numpy(), abs=1e-5)


# ---------------------------------------------------------------- DistributedDataParallel

def _sgd_test_net():
    torch.manual_seed(0)
    return FeatureNet()


def _sgd_run(net):
    """train_loop's settings for the DDP test. Plain SGD, whose step is proportional to the
    gradient: with Adam, a gradient scaled by the number of processes would go unnoticed."""
    return dict(epochs=2, accumulation_steps=2, warmup_ratio=0.0, schedule="constant", max_grad_norm=1e9,
                optimizer=torch.optim.SGD(net.parameters(), lr=0.5), device=torch.device("cpu"))


def _ddp_worker(rank, world_size, port, out_dir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)
    features, labels = toy_data(10)
    net = DistributedDataParallel(_sgd_test_net())
    train = ut.make_feature_loader(features, labels, 2, shuffle=True)
    valid = ut.make_feature_loader(features, labels, 4)
    history = ut.train_loop(net, train, valid, **_sgd_run(net))
    result = ut.evaluate(net, valid, device=torch.device("cpu"))
    torch.save({"weight": net.module.classifier.weight.detach(), "result": result,
                "train_batches": len(train), "history": history}, f"{out_dir}/rank{rank}.pt")
    dist.destroy_process_group()


def test_train_loop_and_evaluate_under_distributed_data_parallel(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert torch.equal(ranks[0]["weight"], ranks[1]["weight"])  # both processes hold the same weights
    net = _sgd_test_net()   # one process with the global batch (2 x 2) trains to the same weights
    features, labels = toy_data(10)
    ut.train_loop(net, ut.make_feature_loader(features, labels, 4, shuffle=True),
                  ut.make_feature_loader(features, labels, 4), **_sgd_run(net))
    assert torch.allclose(ranks[0]["weight"], net.classifier.weight.detach(), atol=1e-6)
    assert not torch.allclose(_sgd_test_net().classifier.weight, net.classifier.weight)  # it trained
    assert ranks[0]["train_batches"] == ranks[1]["train_batches"] == 3  # global batches of 4: 4, 4, 2
    for rank in ranks:
        assert rank["result"]["n"] == 10  # each process saw half; the counts were summed
    assert ranks[0]["history"]["valid_acc"] == ranks[1]["history"]["valid_acc"]


def test_processes_share_each_global_batch_exactly_like_one_process_with_the_whole_batch():
    lengths = [int(n) for n in torch.randint(3, 60, (203,), generator=torch.Generator().manual_seed(0))]
    whole = ut.LengthGroupedBatchSampler(lengths, batch_size=12, seed=5)
    shares = []
    for rank in range(3):
        sampler = ut.LengthGroupedBatchSampler(lengths, batch_size=4, seed=5)
        sampler.rank, sampler.world_size = rank, 3        # what it reads from torch.distributed
        sampler.set_epoch(2), whole.set_epoch(2)
        shares.append(list(sampler))
    assert len({len(s) for s in shares}) == 1            # every process runs the same number of steps
    for step, batch in enumerate(whole):
        together = sorted(i for share in shares for i in share[step])
        assert together == sorted(batch)                 # step by step, the same samples as one process
    assert sum(len(b) for b in whole) == len(lengths)    # one process keeps every sample


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_stops_training_with_the_place_and_cause_and_saves_nothing(tmp_path, bad):
    features, labels = toy_data(8)
    loader = ut.make_feature_loader(features, labels, 4)
    calls = []

    def loss_turning_bad(logits, targets):  # finite for epoch 1, then bad at the second batch of epoch 2
        calls.append(torch.is_grad_enabled())  # training batches; evaluation runs without gradients
        loss = nn.functional.cross_entropy(logits, targets)
        return loss * bad if sum(calls) == 4 and calls[-1] else loss

    net = FeatureNet()
    with pytest.raises(FloatingPointError, match=rf"fold 1 · epoch 2, batch 2 of 2: the training loss is {bad}.*"
                                                 r"learning rate too high.*lr=0\.5.*0\.05") as error:
        ut.train_loop(net, loader, loader, epochs=3, lr=0.5, loss_fn=loss_turning_bad, log_label="fold 1",
                      device=torch.device("cpu"), save_state=tmp_path / "state.pt")
    assert "nothing from this epoch was saved" in str(error.value)
    assert torch.isfinite(net.classifier.weight).all()  # the bad update was never made
    assert torch.load(tmp_path / "state.pt", weights_only=False)["epoch"] == 1  # the last good epoch


def test_predict_answers_an_empty_list_and_refuses_impossible_sizes(classifier):
    model, tokenizer = classifier
    assert ut.predict_sentiment(model, tokenizer, []) == []
    table = ut.predict(model, tokenizer, [], label_names=("negative", "positive"))
    assert len(table) == 0 and list(table.columns) == ["text", "label", "negative", "positive"]
    with pytest.raises(ValueError, match="batch_size=0: give a whole number of texts per batch"):
        ut.predict_sentiment(model, tokenizer, ["good"], batch_size=0)
    with pytest.raises(ValueError, match=r"max_len=2: give 3 or more tokens"):
        ut.predict(model, tokenizer, ["good"], label_names=("negative", "positive"), max_len=2)


def test_damaged_or_foreign_saved_folders_say_which_file_and_which_loader(classifier, tmp_path):
    model, tokenizer = classifier
    folder = ut.save_classifier(model, tokenizer, tmp_path / "run")
    (tmp_path / "gluon").mkdir()
    for name in ("config.json", "vocab.json", "model.params"):
        (tmp_path / "gluon" / name).write_text("x")
    with pytest.raises(ValueError, match=r"saved by utils.gluon, not by utils.pytorch: load it with utils.gluon"):
        ut.load_classifier(tmp_path / "gluon")
    weights = (folder / "classifier.pt").read_bytes()
    (folder / "classifier.pt").write_bytes(weights[: len(weights) // 2])   # cut off while saving
    with pytest.raises(ValueError, match=r"classifier.pt is damaged and cannot be read .* save it again"):
        ut.load_classifier(folder)
    (folder / "classifier.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"classifier.pt is empty: the save was interrupted"):
        ut.load_classifier(folder)
    state = tmp_path / "state.pt"
    state.write_bytes(weights[:100])
    with pytest.raises(ValueError, match=r"state.pt is damaged"):
        ut._read_training_state(state, {})


def test_full_mode_offline_names_the_model_the_cache_folder_and_how_to_place_it(tmp_path):
    script = ("from utils import pytorch as ut\n"
              "for lang in ('ko', 'en'):\n"
              "    try:\n"
              "        ut.load_bert(lang)\n"
              "    except ConnectionError as error:\n"
              "        print(error)\n")
    env = {**__import__("os").environ, "BOOK_MODE": "full", "HF_ENDPOINT": "http://127.0.0.1:9",
           "HF_HUB_CACHE": str(tmp_path / "hub"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    messages = out.stdout.splitlines()
    assert len(messages) == 2, out.stderr[-2000:]
    for message, model_id in zip(messages, ("skt/kobert-base-v1", "bert-base-uncased")):
        assert f"Could not download the pretrained model {model_id}" in message
        assert str(tmp_path / "hub" / f"models--{model_id.replace('/', '--')}") in message
        assert f"hf download {model_id}" in message and "HF_HUB_OFFLINE=1" in message


def test_encode_returns_one_type_whatever_the_tokenizer(bert_and_tokenizer, korean_classifier):
    from utils.tokenization import TokenIds
    texts = ["a fine movie", "dull", "the best film of the year by far"]
    for tokenizer in (bert_and_tokenizer[1], korean_classifier[1]):
        token_ids = ut.encode(tokenizer, texts, 6)
        assert isinstance(token_ids, TokenIds) and len(token_ids) == 3
        expected = tokenizer(texts, truncation=True, max_length=6)["input_ids"]
        assert token_ids.tolist() == [list(ids) for ids in expected]
        assert token_ids.lengths().tolist() == [len(ids) for ids in expected]


# ---------------------------------------------------------------------------- chapter 60's export

def chapter_60():
    from utils.saved import chapter_code
    return chapter_code("60_prediction_pytorch")


def test_exported_folder_loads_in_pipeline_with_predicts_probabilities(classifier, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    model, tokenizer = classifier
    ch, labels = chapter_60(), ["negative", "positive"]
    card = ch.model_card("Test", "en", "bert-base-uncased", "imdb", "one epoch", 0.5123, "smoke")
    folder = ch.export_for_transformers(model, tokenizer, tmp_path / "exported", labels, card)
    loaded = AutoModelForSequenceClassification.from_pretrained(folder)    # no book code needed to load
    assert type(loaded).__name__ == "BertForSequenceClassification" and loaded.config.id2label == {0: "negative", 1: "positive"}
    assert type(AutoTokenizer.from_pretrained(folder)).__name__.startswith("Bert")
    texts = ["a fine film", "dull, dull, dull and far too long", "ok", "the best acting " * 60]
    answers = pipeline("text-classification", model=str(folder), device=-1)(texts, top_k=None, truncation=True,
                                                                           max_length=128)
    from_pipeline = np.array([[next(a["score"] for a in answer if a["label"] == name) for name in labels]
                              for answer in answers])
    from_book = ut.predict(model, tokenizer, texts, labels, max_len=128)
    assert np.allclose(from_pipeline, from_book[labels].to_numpy(), atol=1e-5)
    assert [labels[k] for k in from_pipeline.argmax(1)] == [p.label for p in ut.predict_sentiment(
        model, tokenizer, texts, labels, max_len=128)]
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("---\nlanguage: en\n") and "0.5123 (smoke mode" in readme and "not a result" in readme


def test_exported_kobert_loads_back_with_the_books_tokenizer(korean_classifier, tmp_path):
    from transformers import AutoModelForSequenceClassification
    from utils.tokenization import KoBertTokenizer

    model, tokenizer = korean_classifier
    ch, labels = chapter_60(), ["부정", "긍정"]
    folder = ch.export_for_transformers(model, tokenizer, tmp_path / "kobert", labels,
                                        ch.model_card("Test", "ko", "skt/kobert-base-v1", "nsmc", "-", None, "full"))
    reloaded = ch.from_transformers(AutoModelForSequenceClassification.from_pretrained(folder))
    texts = KOREAN_REVIEWS
    again = ut.predict(reloaded, KoBertTokenizer.from_pretrained(folder), texts, labels)
    assert np.allclose(again[labels].to_numpy(), ut.predict(model, tokenizer, texts, labels)[labels].to_numpy(), atol=1e-6)
    assert "Test accuracy: not measured" in (folder / "README.md").read_text(encoding="utf-8")


def linear_layer_precisions(compiled_classifier):
    """What the linear layers of an OpenVINOClassifier compute in, as OpenVINO's CPU plugin runs them."""
    layers = [op.get_rt_info() for op in compiled_classifier.compiled.get_runtime_model().get_ops()]
    return {info["runtimePrecision"].astype(str) for info in layers if info["layerType"].astype(str) == "FullyConnected"}


def test_openvino_model_gives_the_models_probabilities_and_leaves_the_model_alone(classifier):
    model, tokenizer = classifier                    # dropout 0.5: a model left in training mode would show
    labels = ["negative", "positive"]
    texts = ["a fine film", "dull, dull, dull and far too long", "ok", "the best acting " * 60] * 5
    before = ut.predict(model, tokenizer, texts, labels, max_len=128)[labels].to_numpy()
    compiled = chapter_60().to_openvino(model, tokenizer, max_len=128)
    for batch_size in (1, 3, 32):                    # other batch sizes and widths: shapes are not fixed
        from_openvino = ut.predict(compiled, tokenizer, texts, labels, max_len=128, batch_size=batch_size)
        assert np.allclose(from_openvino[labels].to_numpy(), before, atol=1e-5)
    assert isinstance(ut.predict_sentiment(compiled, tokenizer, "a fine film", labels, max_len=128), Prediction)
    assert linear_layer_precisions(compiled) == {"f32"}                  # not bf16, which OpenVINO may pick
    assert not any(module.training for module in model.modules())
    assert np.array_equal(ut.predict(model, tokenizer, texts, labels, max_len=128)[labels].to_numpy(), before)


def test_openvino_int8_quantizes_weights_and_activations_and_keeps_the_labels(classifier):
    from utils.data import SAMPLE_DIR, read_imdb

    model, tokenizer = classifier
    labels = ["negative", "positive"]
    train, test = (read_imdb(SAMPLE_DIR / "aclImdb", split)["text"].tolist() for split in ("train", "test"))
    quantized = chapter_60().to_openvino(model, tokenizer, train, max_len=128)
    assert linear_layer_precisions(quantized) <= {"i8", "u8"}            # every linear layer computes in int8
    fp32 = ut.predict(model, tokenizer, test, labels, max_len=128)[labels].to_numpy()
    int8 = ut.predict(quantized, tokenizer, test, labels, max_len=128)[labels].to_numpy()
    assert np.abs(int8 - fp32).max() < 0.05 and (int8.argmax(1) != fp32.argmax(1)).mean() < 0.05


def test_to_openvino_asks_for_a_model_on_the_cpu(classifier):
    model, tokenizer = classifier
    with pytest.raises(ValueError, match=r"on the CPU: pass copy.deepcopy\(model\).cpu\(\)"):
        chapter_60().to_openvino(copy.deepcopy(model).to("meta"), tokenizer)


GROWING_BLOCKS = """
import ctypes, json, resource, sys
from utils.saved import chapter_code

took_effect = chapter_code("60_prediction_pytorch").keep_freed_memory() if sys.argv[1] == "kept" else None
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]


def faults():
    # Blocks of 2, 4, ..., 24 MB, each written and freed: the growing sizes of length-sorted batches.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for megabytes in range(2, 26, 2):
        block = libc.malloc(megabytes * 2**20)
        ctypes.memset(block, 1, megabytes * 2**20)
        libc.free(block)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


print(json.dumps({"took_effect": took_effect, "faults": [faults() for _ in range(3)]}))
"""


def page_faults_of_growing_blocks(setting):
    done = subprocess.run([sys.executable, "-c", GROWING_BLOCKS, setting], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings exist on Linux only")
def test_keep_freed_memory_reuses_freed_blocks_instead_of_fetching_new_pages():
    # Each setting in a fresh process: the setting is for the whole process and cannot be undone. Measured
    # here, pages fetched per pass: defaults 39,948 / 6,143 / 0 (each block bigger than the last goes to mmap
    # and back to the system on free; glibc's threshold catches up only in the second pass), kept 6,120 / 0 / 0
    # (the heap grows once to the largest block). A real prediction run interleaves many sizes, and on some
    # machines the defaults then keep fetching pages pass after pass; that part varies, this one does not.
    # Without the trim setting the heap is handed back on each free; without the mmap one, each block is mmapped.
    returned, kept = page_faults_of_growing_blocks("returned"), page_faults_of_growing_blocks("kept")
    assert kept["took_effect"] is True
    largest_block_pages = 24 * 2**20 // resource.getpagesize()
    assert sum(returned["faults"]) > 5 * largest_block_pages, returned
    assert sum(kept["faults"]) < 1.2 * largest_block_pages, kept
    assert max(kept["faults"][1:]) < 50, kept


def test_keep_freed_memory_does_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert chapter_60().keep_freed_memory() is False
