from __future__ import annotations

import pytest
import torch

from explainers.nn.saliency import (
    GRADCAM,
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


def test_the_valid_keys_are_listed() -> None:
    assert SALIENCY_METHODS == ("gradcam",)


def test_a_method_is_picked_by_its_key_or_given_itself() -> None:
    custom = Saliency(key="ones", name="Ones", channel_weights=lambda a, g: torch.ones(a.shape[:2]))

    assert saliency_pick("gradcam") is GRADCAM
    assert saliency_pick(GRADCAM) is GRADCAM
    assert saliency_pick(custom) is custom


def test_an_unknown_key_is_an_error_that_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown saliency method 'gradcam\+'; valid: gradcam$"):
        saliency_pick("gradcam+")
