from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity
from torch import nn

from explainers.nn.losses import LossWeights, PerceptionLoss, ssim
from tests.explainers.nn.builders import images, tiny_classifier


def skimage_ssim(x: torch.Tensor, y: torch.Tensor) -> float:
    return structural_similarity(
        x.double().numpy(),
        y.double().numpy(),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1,
        channel_axis=0,
    )


def test_ssim_matches_skimage_image_by_image() -> None:
    x = images(batch=2, size=32)
    y = (0.7 * x + 0.3 * images(batch=2, seed=1, size=32)).clamp(0, 1)

    per_image = ssim(x, y, reduction="none")

    expected = [skimage_ssim(x[i], y[i]) for i in range(2)]
    np.testing.assert_allclose(per_image.numpy(), expected, atol=1e-5)
    torch.testing.assert_close(ssim(x, y), per_image.mean())


def test_ssim_of_an_image_with_itself_is_one() -> None:
    x = images(batch=1, size=16)[0]

    torch.testing.assert_close(ssim(x, x), torch.tensor(1.0))


def test_ssim_refuses_images_smaller_than_its_window() -> None:
    with pytest.raises(ValueError, match="H, W >= 11"):
        ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))


def test_the_default_weights_are_the_papers() -> None:
    assert LossWeights() == LossWeights(mse=0.2, ssim=0.4, dsim=0.4)


def test_loss_weights_must_sum_to_one() -> None:
    with pytest.raises(ValueError, match=r"sum to one, got mse=0.5, ssim=0.4, dsim=0.4 \(sum 1.3\)"):
        LossWeights(mse=0.5)


def test_loss_weights_must_not_be_negative_even_when_they_sum_to_one() -> None:
    with pytest.raises(ValueError, match=r"must be non-negative and sum to one, got mse=-0.2, ssim=0.6"):
        LossWeights(mse=-0.2, ssim=0.6, dsim=0.6)


def test_each_term_has_its_known_value_on_flat_images() -> None:
    x, y = torch.full((1, 3, 16, 16), 0.5), torch.full((1, 3, 16, 16), 0.6)
    z = torch.zeros(1, 1, 16, 16)

    def encoder(t: torch.Tensor) -> torch.Tensor:
        return 2 * t.mean(dim=1, keepdim=True)  # E(y) = 1.2 everywhere

    terms = PerceptionLoss(encoder)(y, x, z)

    # Flat images have no variance, so SSIM is its luminance term (2 * .5 * .6 + C1) / (.25 + .36 + C1).
    c1 = 0.01**2
    expected_ssim_loss = 1 - (0.6 + c1) / (0.61 + c1)
    torch.testing.assert_close(terms.mse, torch.tensor(0.01))
    torch.testing.assert_close(terms.ssim_loss, torch.tensor(expected_ssim_loss))
    torch.testing.assert_close(terms.dsim, torch.tensor(1.44))
    torch.testing.assert_close(terms.total, torch.tensor(0.2 * 0.01 + 0.4 * expected_ssim_loss + 0.4 * 1.44))


def test_the_dsim_gradient_reaches_y_through_a_frozen_encoder() -> None:
    encoder = nn.Conv2d(3, 4, 3).requires_grad_(False)
    y = torch.rand(1, 3, 16, 16, requires_grad=True)
    z = torch.zeros(1, 4, 14, 14)

    PerceptionLoss(encoder, LossWeights(mse=0, ssim=0, dsim=1))(y, y.detach(), z).total.backward()

    assert y.grad is not None and y.grad.abs().sum() > 0
    assert encoder.weight.grad is None


def test_with_a_classifier_dsim_compares_its_encoding_of_y_with_z() -> None:
    model = tiny_classifier().requires_grad_(False)
    x, y = images(batch=2), images(batch=2, seed=1)
    loss = PerceptionLoss(model)

    with torch.no_grad():
        terms = loss(y, x, model.encode(x))
        expected = ((model.encode(y) - model.encode(x)) ** 2).mean()

    torch.testing.assert_close(terms.dsim, expected)
    assert list(loss.parameters()) == []


def test_with_no_weight_on_dsim_it_never_runs_the_encoder() -> None:
    def encoder(t: torch.Tensor) -> torch.Tensor:
        raise AssertionError("E(y) was computed for a term that does not count")

    x, y = torch.full((1, 3, 16, 16), 0.5), torch.full((1, 3, 16, 16), 0.6)
    terms = PerceptionLoss(encoder, LossWeights(mse=1, ssim=0, dsim=0))(y, x, torch.zeros(1, 1, 4, 4))

    torch.testing.assert_close(terms.total, torch.tensor(0.01))
    assert terms.dsim.isnan()
