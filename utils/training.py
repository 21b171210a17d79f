"""Framework-neutral pieces of training that utils.pytorch and utils.gluon share.

The learning-rate schedule, early stopping, the per-epoch history, the input checks
and result type of ``predict_sentiment``, and the wording of a run's time estimate
behave the same in both frameworks, so they live here once.
"""
import math
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

from utils.env import one_line

Prediction = namedtuple("Prediction", ["label", "probability"])
Prediction.__doc__ = "One text's predicted label name and the model's probability for it."

SCHEDULES = ("linear", "cosine", "constant")


# Smoke mode's BERT in both frameworks: bert-base's architecture, tiny (a transformers BertConfig's
# names; utils.gluon derives its own configuration from these with gluon_config).
SMOKE_BERT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=256, max_position_embeddings=512)

# The default training settings, written once: both train_loops and the fine-tuning command's
# options take their defaults from here (tests/test_training.py checks that they do).
DEFAULTS = SimpleNamespace(
    epochs=3,                 # passes over the training data (early stopping may end sooner)
    lr=2e-5,                  # peak learning rate of the BERT body (the BERT paper tried 2e-5 to 5e-5)
    head_lr=None,             # the classifier head's peak learning rate; None: the same as lr
    weight_decay=0.01,        # AdamW's, never on biases and LayerNorm
    warmup_ratio=0.1,         # share of the updates spent raising the learning rate from 0
    schedule="linear",        # how it decays after warmup: one of SCHEDULES
    max_grad_norm=1.0,        # the gradients' global norm is clipped to this
    accumulation_steps=1,     # batches per update
    patience=None,            # epochs without a better validation accuracy before stopping; None: never
)


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


def check_finite_loss(loss, *, epoch, batch, batches, lr, label=None):
    """Stop training with a clear error when a batch's loss is NaN or infinite.

    Both ``train_loop``s call this before the optimizer step, so the broken update is never
    made and no later checkpoint, state or saved run holds a broken model.
    """
    if math.isfinite(loss):
        return
    where = f"{label} · " if label else ""
    raise FloatingPointError(
        f"{where}epoch {epoch}, batch {batch} of {batches}: the training loss is {loss}, so training "
        f"stopped before this update; nothing from this epoch was saved. The usual cause is a learning "
        f"rate too high for the model (lr={lr:g}): lower it, e.g. to {lr / 10:g}, and train again. "
        f"If it happens at a small learning rate, look at this batch's texts and labels.")


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


def check_prediction_options(batch_size, max_len):
    """``predict_sentiment`` / ``predict``: a batch holds a text or more, and a text at least [CLS], a token and [SEP]."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: give a whole number of texts per batch, 1 or more.")
    if not isinstance(max_len, int) or max_len < 3:
        raise ValueError(f"max_len={max_len!r}: give 3 or more tokens ([CLS], at least one token of "
                         f"the text, [SEP]); BERT reads up to 512.")


def prediction_table(texts, label_names, probabilities):
    """``predict``'s table in both frameworks: the text, the predicted label and every class's
    probability (a numpy array of shape (texts, classes)), one row per text."""
    import pandas as pd

    table = pd.DataFrame(probabilities, columns=list(label_names))
    table.insert(0, "label", [label_names[k] for k in probabilities.argmax(-1).tolist()])
    table.insert(0, "text", texts)
    return table


# The files each framework's save_classifier writes, to tell a folder's framework and what it lacks.
CLASSIFIER_FILES = {"utils.pytorch": ("config.json", "classifier.json", "classifier.pt"),
                    "utils.gluon": ("config.json", "vocab.json", "model.params")}


def check_classifier_folder(path, loader):
    """``path`` if it holds a classifier that ``loader`` ("utils.pytorch" or "utils.gluon") reads;
    else an error that names the missing or empty file, or the other framework's loader."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder. Give the folder that {loader}.save_classifier wrote.")
    missing = [name for name in CLASSIFIER_FILES[loader] if not (path / name).is_file()]
    if missing:
        other = next((name for name, files in CLASSIFIER_FILES.items()
                      if name != loader and all((path / f).is_file() for f in files)), None)
        if other:
            raise ValueError(f"{path} holds a classifier saved by {other}, not by {loader}: load it with "
                             f"{other}.load_classifier.")
        raise FileNotFoundError(f"{path} lacks {', '.join(missing)}: give the folder that "
                                f"{loader}.save_classifier(model, tokenizer, path) wrote.")
    empty = [name for name in CLASSIFIER_FILES[loader] if (path / name).stat().st_size == 0]
    if empty:
        raise ValueError(f"{path / empty[0]} is empty: the save was interrupted. Save the classifier again.")
    return path


def damaged(file, error):
    """The error for a saved file that exists but cannot be read (cut off, or not what it should be)."""
    return ValueError(f"{file} is damaged and cannot be read ({one_line(error, 120)}). "
                      f"It was probably cut off while saving; save it again.")


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


def format_duration(seconds, lang="en"):
    """``seconds`` the way a reader says it: 'under 1 s', '45 s', '12 min', '3 h 5 min'
    (Korean: '1초 미만', '45초', '12분', '3시간 5분').

    Rounded to the second under a minute, to the minute above it.
    """
    if lang not in ("en", "ko"):
        raise ValueError(f"lang={lang!r}: use 'en' or 'ko'.")
    seconds = max(0.0, float(seconds))
    if seconds < 0.5:
        return "1초 미만" if lang == "ko" else "under 1 s"
    if seconds < 59.5:
        return f"{seconds:.0f}초" if lang == "ko" else f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if lang == "ko":
        return f"{hours}시간 {minutes}분" if hours and minutes else f"{hours}시간" if hours else f"{minutes}분"
    return f"{hours} h {minutes} min" if hours and minutes else f"{hours} h" if hours else f"{minutes} min"


def _about(seconds, lang="en"):
    text = format_duration(seconds, lang)
    if text in ("1초 미만", "under 1 s"):
        return text
    return f"약 {text}" if lang == "ko" else f"about {text}"


def project_time(seconds_timed, tokens_timed, tokens_total):
    """Scale the time measured on ``tokens_timed`` padded tokens to ``tokens_total`` of them.

    A BERT step costs about the same per padded token (batch size x width) over the
    widths of a fine-tuning run, so tokens, not batches, are what the time scales with.
    """
    if tokens_timed <= 0:
        raise ValueError("project_time: nothing was timed (tokens_timed must be > 0).")
    return seconds_timed * tokens_total / tokens_timed


def describe_time_estimate(estimate):
    """The two lines (Korean, English) that say what an ``estimate_epoch_time`` result means.

    ``estimate`` needs 'device' ('CPU' or 'GPU'), 'batches_timed', 'epochs', 'train_epoch',
    'valid_epoch', 'test' and 'total' (seconds; 'valid_epoch' and 'test' may be 0), and
    'smoke' (True: the tiny model of smoke mode, whose time says nothing about full mode).
    """
    e = estimate
    per_epoch = e["train_epoch"] + e["valid_epoch"]
    ko = (f"예상 시간(이 {e['device']}에서): 에폭당 {_about(per_epoch, 'ko')}"
          + (f"(학습 {format_duration(e['train_epoch'], 'ko')} + 검증 {format_duration(e['valid_epoch'], 'ko')})"
             if e["valid_epoch"] else "")
          + f", {e['epochs']} 에폭이면 {_about(e['epochs'] * per_epoch, 'ko')}"
          + (f", 테스트 평가 {_about(e['test'], 'ko')}" if e["test"] else "")
          + f", 모두 {_about(e['total'], 'ko')}."
          + f" 학습 배치 {e['batches_timed']}개를 재서 토큰 수로 환산했습니다.")
    en = (f"Estimated time: {_about(per_epoch)} per epoch on this {e['device']}"
          + (f" (training {format_duration(e['train_epoch'])} + validation {format_duration(e['valid_epoch'])})"
             if e["valid_epoch"] else "")
          + f", {_about(e['epochs'] * per_epoch)} for {e['epochs']} epoch{'s' * (e['epochs'] != 1)}"
          + (f", test evaluation {_about(e['test'])}" if e["test"] else "")
          + f"; {_about(e['total'])} in all"
          + f" ({e['batches_timed']} training batches timed, scaled by tokens).")
    if e.get("smoke"):
        ko = "[스모크 추정: 작은 무작위 모델의 시간이라 풀 모드와는 상관없습니다] " + ko
        en = "[smoke estimate: the tiny random model's time, which says nothing about full mode] " + en
    return ko, en


def stratified_subset(frame, n, seed=42, label="label"):
    """``n`` rows of ``frame`` with its class proportions (all of it when ``n`` is None or >= its size).

    The CPU plan of the Gluon chapters trains on such a sample of the training set; the
    same ``seed`` gives the same rows.
    """
    if n is None or n >= len(frame):
        return frame
    from sklearn.model_selection import train_test_split

    return train_test_split(frame, train_size=n, stratify=frame[label], random_state=seed)[0]
