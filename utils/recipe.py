"""The fine-tuning recipe that utils.pytorch's and utils.gluon's train_loop both follow.

The default settings (written once, also read by the fine-tuning command's options),
the smoke BERT's size, the learning-rate schedule, early stopping, the per-epoch history
and the stop on a non-finite loss behave the same in both frameworks, so they live here once.
"""
import math
from types import SimpleNamespace

SCHEDULES = ("linear", "cosine", "constant")


# Smoke mode's BERT in both frameworks: bert-base's architecture, tiny (a transformers BertConfig's
# names; utils.gluon derives its own configuration from these with gluon_config).
SMOKE_BERT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=256, max_position_embeddings=512)

# The default training settings, written once: both train_loops and the fine-tuning command's
# options take their defaults from here (tests/test_recipe.py checks that they do).
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
