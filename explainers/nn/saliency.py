"""Saliency methods: how a class activation map weighs each channel of a layer's activation.

Grad-CAM and its kin share everything else (one gradient of the class score to the layer, the
weighted sum of channels, ReLU, upsampling, normalisation; see ``gradcam.cam_from_gradients``), so a
method is defined by its channel weights, as in pytorch-grad-cam, where ``GradCAM`` and ``GradCAMPlusPlus``
override ``BaseCAM.get_cam_weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

ChannelWeights = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Saliency:
    """One saliency method. Code that takes a method accepts this object or its key."""

    key: str  # what commands and settings call it, e.g. "gradcam"
    name: str  # what people read, e.g. "Grad-CAM"
    channel_weights: ChannelWeights  # (activation, gradients), both (B, K, h, w) -> weights (B, K)


def gradcam_weights(activation: Tensor, gradients: Tensor) -> Tensor:
    """Grad-CAM (Selvaraju et al., 2017): each channel's gradient averaged over the map."""
    return gradients.mean(dim=(2, 3))  # (B, K, h, w) -> (B, K)


GRADCAM = Saliency(key="gradcam", name="Grad-CAM", channel_weights=gradcam_weights)
SALIENCIES = {method.key: method for method in (GRADCAM,)}
SALIENCY_METHODS = tuple(SALIENCIES)  # the valid keys, e.g. for argparse's choices; the first is the default


def saliency_pick(saliency: Saliency | str) -> Saliency:
    """The method itself, given it or its key; an unknown key is an error that lists the valid ones."""
    if isinstance(saliency, Saliency):
        return saliency
    if saliency not in SALIENCIES:
        raise ValueError(f"unknown saliency method {saliency!r}; valid: {', '.join(SALIENCY_METHODS)}")
    return SALIENCIES[saliency]
