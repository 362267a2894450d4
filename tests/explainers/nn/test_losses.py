from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity
from torch import nn

from explainers.nn.losses import SSIM_CHANNEL_MEAN, LossWeights, PerceptionLoss, ssim, ssim_loss_term
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

    # Flat images have no variance, so SSIM is its luminance term (2 * .5 * .6 + C1) / (.25 + .36 + C1),
    # and the authors' L_SSIM sums it over the three channels with a minus sign.
    c1 = 0.01**2
    expected_ssim_loss = -3 * (0.6 + c1) / (0.61 + c1)
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


def test_the_ssim_term_is_minus_the_sum_of_skimages_per_channel_ssim_averaged_over_the_batch() -> None:
    x = images(batch=2, size=32)
    y = (0.6 * x + 0.4 * images(batch=2, seed=3, size=32)).clamp(0, 1)

    term = ssim_loss_term(y, x)

    per_image = [
        sum(skimage_ssim(x[i, c : c + 1], y[i, c : c + 1]) for c in range(3)) for i in range(2)
    ]  # skimage on each channel alone
    np.testing.assert_allclose(float(term), -np.mean(per_image), atol=1e-5)


def test_the_channel_mean_normalisation_weighs_a_third_of_the_authors() -> None:
    x = images(batch=2, size=32)
    y = (0.6 * x + 0.4 * images(batch=2, seed=3, size=32)).clamp(0, 1)

    authors, mean = ssim_loss_term(y, x), ssim_loss_term(y, x, SSIM_CHANNEL_MEAN)

    torch.testing.assert_close(authors, -3 * (1 - mean))


def test_a_perfect_reconstruction_has_an_ssim_term_of_minus_three() -> None:
    x = images(batch=2, size=16)

    torch.testing.assert_close(ssim_loss_term(x, x), torch.tensor(-3.0))


def test_the_mse_term_is_the_mean_over_elements() -> None:
    x, y = torch.zeros(2, 3, 16, 16), torch.zeros(2, 3, 16, 16)
    y[0, 0, :8] = 1.0  # half of one channel of one image of two: 1/12 of the elements

    terms = PerceptionLoss(lambda t: t, LossWeights(mse=1, ssim=0, dsim=0))(y, x, x)

    torch.testing.assert_close(terms.mse, torch.tensor(1 / 12))


def test_an_unknown_ssim_normalisation_is_refused() -> None:
    with pytest.raises(ValueError, match="SSIM normalisation must be one of channel_sum, channel_mean"):
        PerceptionLoss(lambda t: t, ssim_normalisation="sum")
