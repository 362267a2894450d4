"""Saliency methods: how a class activation map weighs each channel of a layer's activation.

Grad-CAM and Grad-CAM++ share everything else (one gradient of the class score to the layer, the
weighted sum of channels, ReLU, upsampling, normalisation; see ``gradcam.cam_from_gradients``), so a
method is defined by its channel weights, as in pytorch-grad-cam, where ``GradCAM`` and ``GradCAMPlusPlus``
override ``BaseCAM.get_cam_weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

ChannelWeights = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Saliency:
    """One saliency method. Code that takes a method accepts this object or its key."""

    key: str  # what commands and settings call it, e.g. "gradcam++"
    name: str  # what people read, e.g. "Grad-CAM++"
    channel_weights: ChannelWeights  # (activation, gradients), both (B, K, h, w) -> weights (B, K)


def gradcam_weights(activation: Tensor, gradients: Tensor) -> Tensor:
    """Grad-CAM (Selvaraju et al., 2017): each channel's gradient averaged over the map."""
    return gradients.mean(dim=(2, 3))  # (B, K, h, w) -> (B, K)


PLUS_PLUS_EPS = 1e-6  # pytorch-grad-cam's; against the logit's small gradients it is not negligible


def gradcam_plus_plus_weights(activation: Tensor, gradients: Tensor) -> Tensor:
    """Grad-CAM++ (Chattopadhay et al., 2018, eq. 19), exactly as pytorch-grad-cam computes it.

    The paper explains exp(S) for the class's score S (the logit). For S piecewise linear in A, each
    derivative of exp(S) is exp(S) times a power of g = dS/dA, so exp(S) cancels from
    alpha = g^2 / (2 g^2 + sum_ab A_ab g^3) and only scales the weights sum_ij alpha_ij ReLU(g_ij),
    which normalisation then cancels too. Unlike Grad-CAM's, the map depends on g's scale, so the score
    must be the logit the derivation assumes, not the sigmoid.
    """
    squared = gradients.pow(2)
    cubed = squared * gradients
    totals = activation.sum(dim=(2, 3), keepdim=True)  # (B, K, h, w) -> (B, K, 1, 1)
    alpha = squared / (2 * squared + totals * cubed + PLUS_PLUS_EPS)
    alpha = torch.where(gradients != 0, alpha, 0)  # as pytorch-grad-cam: no weight without a gradient
    return (alpha * F.relu(gradients)).sum(dim=(2, 3))  # (B, K, h, w) -> (B, K)


GRADCAM = Saliency(key="gradcam", name="Grad-CAM", channel_weights=gradcam_weights)
GRADCAM_PLUS_PLUS = Saliency(key="gradcam++", name="Grad-CAM++", channel_weights=gradcam_plus_plus_weights)
SALIENCIES = {method.key: method for method in (GRADCAM, GRADCAM_PLUS_PLUS)}
SALIENCY_METHODS = tuple(SALIENCIES)  # the valid keys, e.g. for argparse's choices; the first is the default


def saliency_pick(saliency: Saliency | str) -> Saliency:
    """The method itself, given it or its key; an unknown key is an error that lists the valid ones."""
    if isinstance(saliency, Saliency):
        return saliency
    if saliency not in SALIENCIES:
        raise ValueError(f"unknown saliency method {saliency!r}; valid: {', '.join(SALIENCY_METHODS)}")
    return SALIENCIES[saliency]
