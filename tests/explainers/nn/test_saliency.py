from __future__ import annotations

import pytest
import torch

from explainers.nn.saliency import (
    GRADCAM,
    GRADCAM_PLUS_PLUS,
    SALIENCY_METHODS,
    Saliency,
    saliency_pick,
)

# One image, two channels, two pixels: (1, 2, 1, 2).
ACTIVATION = torch.tensor([[[[1.0, 1.0]], [[2.0, 0.0]]]])
GRADIENTS = torch.tensor([[[[0.5, -0.5]], [[1.0, 0.0]]]])


def test_gradcam_weighs_each_channel_by_its_mean_gradient() -> None:
    weights = GRADCAM.channel_weights(ACTIVATION, GRADIENTS)

    torch.testing.assert_close(weights, torch.tensor([[0.0, 0.5]]))


def test_gradcam_plus_plus_weighs_each_positive_gradient_by_its_closed_form_alpha() -> None:
    # Channel 0 sums to 2: alpha = .25 / (2 * .25 + 2 * .125) = 1/3 where g = .5, times ReLU(g) = .5;
    # the pixel with g = -.5 adds nothing. Channel 1 sums to 2: alpha = 1 / (2 + 2) where g = 1, times 1;
    # the pixel with g = 0 adds nothing.
    weights = GRADCAM_PLUS_PLUS.channel_weights(ACTIVATION, GRADIENTS)

    torch.testing.assert_close(weights, torch.tensor([[1 / 6, 1 / 4]]))


def test_gradcam_plus_plus_gives_no_weight_and_no_nan_without_a_gradient() -> None:
    weights = GRADCAM_PLUS_PLUS.channel_weights(ACTIVATION, torch.zeros_like(GRADIENTS))

    assert torch.equal(weights, torch.zeros(1, 2))


def test_the_valid_keys_are_listed_with_gradcam_first() -> None:
    assert SALIENCY_METHODS == ("gradcam", "gradcam++")


def test_a_method_is_picked_by_its_key_or_given_itself() -> None:
    custom = Saliency(key="ones", name="Ones", channel_weights=lambda a, g: torch.ones(a.shape[:2]))

    assert saliency_pick("gradcam++") is GRADCAM_PLUS_PLUS
    assert saliency_pick(GRADCAM) is GRADCAM
    assert saliency_pick(custom) is custom


def test_an_unknown_key_is_an_error_that_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown saliency method 'gradcam\+'; valid: gradcam, gradcam\+\+"):
        saliency_pick("gradcam+")
