"""utils.training: the schedule, early stopping and predict_sentiment's input checks."""
import pytest

from utils.training import EarlyStopping, check_label_names, check_texts, lr_factor


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
    from utils.training import stratified_folds

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
    from utils.training import stratified_folds

    train, dev = load_korean_hate_speech("train"), load_korean_hate_speech("dev")
    folds = stratified_folds(train["label"], n_folds=5, seed=0)
    seen_in_selection = set()
    for fold_train, fold_valid in folds:
        assert max(fold_train.max(), fold_valid.max()) < len(train)
        seen_in_selection |= set(train["text"].iloc[fold_train]) | set(train["text"].iloc[fold_valid])
    assert seen_in_selection == set(train["text"])
    assert not seen_in_selection & set(dev["text"])   # the held-out comments never train or select
