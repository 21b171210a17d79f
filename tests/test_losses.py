"""Chapter 40's FocalLoss (its #@save cell)."""
import pytest
import torch
from torch.nn import functional as F

from utils.saved import chapter_code

FocalLoss = chapter_code("40_hate_speech").FocalLoss


def batch(seed=0, n=16, classes=3):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=generator) * 3, torch.randint(0, classes, (n,), generator=generator)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gamma_zero_without_alpha_is_cross_entropy(reduction):
    logits, targets = batch()
    expected = F.cross_entropy(logits, targets, reduction=reduction)
    assert torch.allclose(FocalLoss(gamma=0, reduction=reduction)(logits, targets), expected, atol=1e-6)


def test_larger_gamma_down_weights_easy_examples_more_than_hard_ones():
    easy = torch.tensor([[4.0, 0.0, 0.0]])   # p_t ≈ 0.96 for class 0
    hard = torch.tensor([[0.0, 2.0, 0.0]])   # p_t ≈ 0.11 for class 0
    target = torch.tensor([0])
    ratios = []
    for gamma in (0.5, 1.0, 2.0, 5.0):
        focal = FocalLoss(gamma=gamma)
        ratios.append(focal(easy, target) / focal(hard, target))
        for logits in (easy, hard):  # never more than cross-entropy
            assert focal(logits, target) <= F.cross_entropy(logits, target)
    assert all(later < earlier for earlier, later in zip(ratios, ratios[1:]))


def test_alpha_weights_each_example_by_its_true_class():
    logits, targets = batch(seed=1)
    alpha = torch.tensor([0.25, 1.0, 3.0])
    weighted = FocalLoss(alpha=alpha, gamma=2.0, reduction="none")(logits, targets)
    plain = FocalLoss(gamma=2.0, reduction="none")(logits, targets)
    assert torch.allclose(weighted, plain * alpha[targets])
    with pytest.raises(ValueError, match="one weight per class"):
        FocalLoss(alpha=[1.0, 2.0])(logits, targets)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_gradients_stay_finite_when_the_model_is_certain(gamma):
    logits = torch.tensor([[60.0, -60.0, 0.0], [0.0, 50.0, -50.0]], requires_grad=True)  # p_t -> 1
    loss = FocalLoss(gamma=gamma)(logits, torch.tensor([0, 1]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-1)
    with pytest.raises(ValueError, match="reduction"):
        FocalLoss(reduction="average")
