"""Losses for classification beyond plain cross-entropy (PyTorch)."""
import torch
from torch import nn
from torch.nn import functional as F

REDUCTIONS = ("mean", "sum", "none")


class FocalLoss(nn.Module):
    """Focal loss (Lin et al., 2017): cross-entropy scaled by ``(1 - p_t) ** gamma``.

    ``p_t`` is the probability the model gives the true class. Easy examples (``p_t`` near 1)
    are down-weighted, so training attends to the hard ones; ``gamma=0`` is cross-entropy.
    ``alpha``: one weight per class (or None), multiplying each example's loss by its true
    class's weight. ``reduction``: "mean" (over examples), "sum" or "none" (one loss each).
    """

    def __init__(self, alpha=None, gamma=2.0, reduction="mean"):
        super().__init__()
        if gamma < 0:
            raise ValueError(f"gamma={gamma}: it must be 0 or more (0 gives cross-entropy).")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction={reduction!r}: choose one of {REDUCTIONS}.")
        self.gamma, self.reduction = gamma, reduction
        self.register_buffer("alpha", None if alpha is None else torch.as_tensor(alpha, dtype=torch.float))

    def forward(self, logits, targets):
        # logits: (batch, num_classes); targets: (batch,) class indices
        if self.alpha is not None and self.alpha.numel() != logits.shape[-1]:
            raise ValueError(f"alpha has {self.alpha.numel()} weights but the logits have "
                             f"{logits.shape[-1]} classes; give one weight per class.")
        log_pt = F.log_softmax(logits.float(), dim=-1).gather(1, targets[:, None]).squeeze(1)  # (batch,)
        # 1 - p_t computed as -expm1(log p_t) keeps precision near p_t = 1; the floor keeps the
        # gradient of (1 - p_t) ** gamma finite there when gamma < 1.
        one_minus_pt = (-torch.expm1(log_pt)).clamp(min=1e-12)
        loss = -(one_minus_pt ** self.gamma) * log_pt
        if self.alpha is not None:
            loss = loss * self.alpha[targets]
        if self.reduction == "mean":
            return loss.mean()
        return loss.sum() if self.reduction == "sum" else loss
