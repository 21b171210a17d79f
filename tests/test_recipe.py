"""The parts both frameworks share: utils.recipe (defaults, schedule, early stopping), utils.prediction's
input checks, utils.timing's time estimates and utils.data's folds."""
import pytest

from utils.prediction import check_label_names, check_texts
from utils.recipe import EarlyStopping, lr_factor
from utils.timing import describe_time_estimate, format_duration, project_time


def test_warmup_rises_linearly_then_linear_decay_reaches_zero():
    factors = [lr_factor(step, 100, 10, "linear") for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(factors[:9], factors[1:10]))
    assert all(a > b for a, b in zip(factors[10:-1], factors[11:]))
    assert lr_factor(100, 100, 10, "linear") == pytest.approx(0.0)


def test_cosine_is_half_way_at_the_middle_of_the_decay():
    assert lr_factor(55, 100, 10, "cosine") == pytest.approx(0.5)
    assert lr_factor(10, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(30, 100, 10, "cosine") > lr_factor(30, 100, 10, "linear")


def test_unknown_schedule_is_named():
    with pytest.raises(ValueError, match="'step'"):
        lr_factor(0, 10, 0, "step")


def test_early_stopping_counts_epochs_without_improvement():
    stopper = EarlyStopping(patience=2, mode="max")
    improved = [stopper.update(acc, epoch) for epoch, acc in enumerate([0.6, 0.7, 0.7, 0.65], 1)]
    assert improved == [True, True, False, False]
    assert stopper.should_stop and stopper.best_epoch == 2
    assert not EarlyStopping(patience=None).should_stop
    loss_stopper = EarlyStopping(patience=1, mode="min")
    assert loss_stopper.update(0.5, 1) and loss_stopper.update(0.4, 2) and not loss_stopper.update(0.45, 3)


def test_check_texts_accepts_a_string_or_a_list():
    assert check_texts("좋아요") == (["좋아요"], True)
    assert check_texts(("a", "b")) == (["a", "b"], False)
    with pytest.raises(TypeError, match=r"texts\[0\] is bytes"):
        check_texts([b"bytes"])
    with pytest.raises(ValueError, match=r"texts\[1\] is empty or blank"):
        check_texts(["a", "\u3000 "])


def test_check_label_names():
    assert check_label_names(("neg", "pos"), 2) == ["neg", "pos"]
    with pytest.raises(ValueError, match="1 label names"):
        check_label_names(["pos"], 2)


def test_stratified_folds_cover_every_sample_once_and_keep_class_shares():
    import numpy as np
    from utils.data import load_korean_hate_speech
    from utils.data import stratified_folds

    labels = load_korean_hate_speech("train")["label"].to_numpy()
    folds = stratified_folds(labels, n_folds=5, seed=0)
    assert len(folds) == 5
    valid_all = np.concatenate([valid for _, valid in folds])
    assert sorted(valid_all) == list(range(len(labels)))           # each sample validates once
    overall = np.bincount(labels, minlength=3) / len(labels)
    for train, valid in folds:
        assert not set(train) & set(valid)                          # no overlap inside a fold
        assert len(train) + len(valid) == len(labels)
        share = np.bincount(labels[valid], minlength=3) / len(valid)
        assert np.abs(share - overall).max() < 0.05                 # stratified
    assert [v.tolist() for _, v in stratified_folds(labels, 5, seed=0)] == [v.tolist() for _, v in folds]
    with pytest.raises(ValueError, match="rarest class"):
        stratified_folds([0, 0, 0, 1, 1], n_folds=3)


def test_folds_index_training_rows_only_and_the_dev_set_stays_out_of_them():
    from utils.data import load_korean_hate_speech
    from utils.data import stratified_folds

    train, dev = load_korean_hate_speech("train"), load_korean_hate_speech("dev")
    folds = stratified_folds(train["label"], n_folds=5, seed=0)
    seen_in_selection = set()
    for fold_train, fold_valid in folds:
        assert max(fold_train.max(), fold_valid.max()) < len(train)
        seen_in_selection |= set(train["text"].iloc[fold_train]) | set(train["text"].iloc[fold_valid])
    assert seen_in_selection == set(train["text"])
    assert not seen_in_selection & set(dev["text"])   # the held-out comments never train or select


def test_format_duration_says_seconds_minutes_and_hours_in_both_languages():
    assert [format_duration(s) for s in (0.4, 45, 90, 3599, 7200, 3 * 3600 + 5 * 60)] == \
        ["under 1 s", "45 s", "2 min", "1 h", "2 h", "3 h 5 min"]
    assert [format_duration(s, "ko") for s in (45, 90, 7200, 3 * 3600 + 5 * 60)] == \
        ["45초", "2분", "2시간", "3시간 5분"]
    with pytest.raises(ValueError, match="'fr'"):
        format_duration(1, "fr")


def test_project_time_scales_with_tokens():
    assert project_time(10.0, 1_000, 250_000) == pytest.approx(2_500.0)
    with pytest.raises(ValueError, match="nothing was timed"):
        project_time(1.0, 0, 100)


def test_describe_time_estimate_names_device_epochs_and_smoke():
    estimate = dict(device="CPU", batches_timed=3, epochs=2, train_epoch=3_300, valid_epoch=600,
                    test=1_200, total=2 * 3_900 + 1_200, smoke=False)
    ko, en = describe_time_estimate(estimate)
    assert "about 1 h 5 min per epoch on this CPU (training 55 min + validation 10 min)" in en
    assert "about 2 h 10 min for 2 epochs" in en and "test evaluation about 20 min" in en
    assert "about 2 h 30 min in all" in en and "3 training batches timed" in en
    assert "예상 시간(이 CPU에서): 에폭당 약 1시간 5분(학습 55분 + 검증 10분), 2 에폭이면 약 2시간 10분" in ko
    assert "테스트 평가 약 20분, 모두 약 2시간 30분." in ko
    assert not en.startswith("[smoke")
    ko, en = describe_time_estimate({**estimate, "smoke": True, "valid_epoch": 0, "test": 0, "epochs": 1})
    assert en.startswith("[smoke estimate") and ko.startswith("[스모크 추정")
    assert "validation" not in en and "test" not in en and "for 1 epoch;" in en
    ko, en = describe_time_estimate({**estimate, "valid_epoch": 0.2, "test": 0.3})
    assert "+ validation under 1 s)" in en and "test evaluation under 1 s;" in en
    assert "+ 검증 1초 미만)" in ko and "테스트 평가 1초 미만," in ko


def test_gluon_estimate_times_real_steps_and_leaves_the_model_as_it_was(capsys):
    import numpy as np
    import utils.env  # noqa: F401  before mxnet
    import mxnet as mx
    from utils import gluon as G

    mx.random.seed(0)
    tiny = dict(num_layers=1, units=8, hidden_size=16, num_heads=2, max_length=512,
                token_type_vocab_size=2, dropout=0.1, layer_norm_eps=1e-12)
    net = G.BERTClassifier(G.build_bert(tiny, 20, ctx=mx.cpu()), num_classes=2, dropout=0.1)
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 30, size=40)
    samples = [(rng.integers(5, 20, n).astype("int32"), np.float32(n), np.zeros(n, "int32"), i % 2)
               for i, n in enumerate(lengths)]
    train = G.make_loader(samples, 8, 1)  # not shuffled: the same batches on every pass
    valid, test = G.make_loader(samples[:16], 8, 1), G.make_loader(samples, 8, 1)
    before = {k: p.data().asnumpy().copy() for k, p in net.collect_params().items()}

    est = G.estimate_epoch_time(net, train, epochs=3, steps=2, valid_loader=valid, test_loader=test,
                                ctx=mx.cpu())

    assert est["batches_timed"] == 2 and est["epochs"] == 3 and est["device"] == "CPU"
    assert est["smoke"]  # the tests run in smoke mode: the lines say so
    assert est["train_epoch"] > 0 and est["valid_epoch"] > 0 and est["test"] > 0
    train_tokens = sum(b[0].shape[0] * b[0].shape[1] for b in train)
    assert est["train_epoch"] == pytest.approx(est["seconds_per_token_train"] * train_tokens)
    assert est["test"] == pytest.approx(est["valid_epoch"] * sum(b[0].size for b in test)
                                        / sum(b[0].size for b in valid))
    assert est["total"] == pytest.approx(3 * (est["train_epoch"] + est["valid_epoch"]) + est["test"])
    printed = capsys.readouterr().out.splitlines()
    assert printed == [describe_time_estimate(est)[1]]  # the English line: BOOK_LANG is not set
    for name, param in net.collect_params().items():  # no update, no gradient left behind
        assert np.array_equal(param.data().asnumpy(), before[name]), name
        assert not param.grad().asnumpy().any(), name
    history = G.train_loop(net, train, valid, epochs=1, lr=1e-3, ctx=mx.cpu())  # trains as usual
    assert len(history["train_loss"]) == 1
    with pytest.raises(ValueError, match="steps=0"):
        G.estimate_epoch_time(net, train, steps=0)


def test_stratified_subset_keeps_class_shares_and_is_repeatable():
    import pandas as pd
    from utils.data import stratified_subset

    frame = pd.DataFrame({"text": [f"review {i}" for i in range(1_000)], "label": [0] * 700 + [1] * 300})
    part = stratified_subset(frame, 100)
    assert len(part) == 100 and part["label"].sum() == 30
    assert part.index.tolist() == stratified_subset(frame, 100).index.tolist()
    assert stratified_subset(frame, None) is frame and stratified_subset(frame, 5_000) is frame


@pytest.mark.torch
def test_the_training_defaults_are_written_once():
    """Both train_loops and the fine-tuning command take their defaults from utils.recipe.DEFAULTS."""
    import inspect

    from utils import gluon, pytorch
    from utils.finetune import build_parser
    from utils.recipe import DEFAULTS

    settings = vars(DEFAULTS)
    assert set(settings) == {"epochs", "lr", "head_lr", "weight_decay", "warmup_ratio", "schedule",
                             "max_grad_norm", "accumulation_steps", "patience"}
    options = {action.dest: action.default for action in build_parser()._actions}
    for train_loop in (pytorch.train_loop, gluon.train_loop):
        defaults = {name: p.default for name, p in inspect.signature(train_loop).parameters.items()}
        for name, value in settings.items():
            if name in defaults:
                assert defaults[name] == value, (train_loop.__module__, name)
    for name, value in settings.items():
        assert options[name] == value, name
    assert set(settings) - set(inspect.signature(gluon.train_loop).parameters) == {"head_lr"}
