"""Framework-neutral pieces of training that utils.pytorch and utils.gluon share.

The learning-rate schedule, early stopping, the per-epoch history, and the input checks
and result type of ``predict_sentiment`` behave the same in both frameworks, so they
live here once.
"""
import math
from collections import namedtuple

Prediction = namedtuple("Prediction", ["label", "probability"])
Prediction.__doc__ = "One text's predicted label name and the model's probability for it."

SCHEDULES = ("linear", "cosine", "constant")


def lr_factor(step, total_steps, warmup_steps, schedule="linear"):
    """Multiplier of the peak learning rate at optimizer step ``step`` (0-based).

    Rises linearly from 0 over ``warmup_steps``, then decays to 0 at ``total_steps``
    along a straight line ("linear") or half a cosine wave ("cosine"), or stays ("constant").
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r}: choose one of {SCHEDULES}.")
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class EarlyStopping:
    """Track a validation metric; say when it improved and when to stop.

    ``patience`` epochs without improvement stop training; ``patience=None`` never stops.
    ``mode='max'`` for accuracy, ``'min'`` for loss.
    """

    def __init__(self, patience=None, mode="max"):
        if mode not in ("max", "min"):
            raise ValueError(f"mode={mode!r}: use 'max' (e.g. accuracy) or 'min' (e.g. loss).")
        self.patience, self.mode = patience, mode
        self.best, self.best_epoch, self.bad_epochs = None, None, 0

    def update(self, value, epoch):
        """Record this epoch's value; return True when it is the best so far."""
        better = (self.best is None or
                  (value > self.best if self.mode == "max" else value < self.best))
        if better:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return better

    @property
    def should_stop(self):
        return self.patience is not None and self.bad_epochs >= self.patience


def new_history():
    """Per-epoch record of a run: one list per metric, plus the best epoch (1-based)."""
    return {"epoch": [], "train_loss": [], "train_acc": [], "valid_loss": [], "valid_acc": [],
            "lr": [], "seconds": [], "best_epoch": None}


def check_texts(texts):
    """Validate ``predict_sentiment`` input; return ``(list_of_texts, was_single_string)``.

    A non-string raises TypeError and an empty or blank string ValueError, both naming
    the index of the offending item.
    """
    single = isinstance(texts, str)
    if single:
        texts = [texts]
    elif not isinstance(texts, (list, tuple)):
        raise TypeError(f"texts must be a string or a list of strings, not {type(texts).__name__}.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__} ({text!r}), not a string. "
                            f"Pass text, e.g. str(value).")
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or blank; there is nothing to classify. "
                             f"Remove it or give it some words.")
    return list(texts), single


def check_label_names(label_names, num_classes):
    """Fail early when the label names do not match the classifier's number of outputs."""
    if len(label_names) != num_classes:
        raise ValueError(f"{len(label_names)} label names {list(label_names)} for a classifier "
                         f"with {num_classes} outputs; give one name per class.")
    return list(label_names)


def stratified_folds(labels, n_folds=5, seed=42):
    """``[(train_idx, valid_idx), ...]``: a stratified k-fold split of the TRAINING labels only.

    Every sample is in exactly one validation fold and each fold keeps the class
    proportions. Pass only training labels: the test set stays out of model selection.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    smallest = np.bincount(labels).min() if len(labels) else 0
    if smallest < n_folds:
        raise ValueError(f"n_folds={n_folds} needs at least {n_folds} samples of every class; "
                         f"the rarest class has {smallest}. Use fewer folds or more data.")
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))
