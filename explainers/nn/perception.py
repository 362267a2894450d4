"""Perception Visualization: what the network perceives (D's reconstruction) where Grad-CAM looks."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from explainers.nn.classifier import Classifier
from explainers.nn.decoder import Decoder
from explainers.nn.gradcam import cam_from_gradients, eval_mode, grad_cam_from_features, gradients_allowed
from explainers.nn.saliency import GRADCAM, Saliency, saliency_pick


def mask_channels(mask: Tensor, images: Tensor) -> Tensor:
    """A mask (B, H, W) or (H, W) broadcast over the RGB channels of ``images`` (B, 3, H, W) or (3, H, W)."""
    if mask.shape[-2:] != images.shape[-2:] or mask.dim() != images.dim() - 1:
        raise ValueError(
            f"mask {tuple(mask.shape)} does not fit images {tuple(images.shape)}: "
            "expected (B, H, W) with (B, 3, H, W), or (H, W) with (3, H, W)"
        )
    return mask.unsqueeze(-3).to(images.dtype)  # (B, H, W) -> (B, 1, H, W)


def perception_visualization(mask: Tensor, reconstruction: Tensor) -> Tensor:
    """p = (1 - m) + m * y: the reconstruction where the map is high, white where it is zero."""
    m = mask_channels(mask, reconstruction)
    return (1 - m) + m * reconstruction


def masked_input(mask: Tensor, images: Tensor) -> Tensor:
    """The survey's Grad-CAM image, (1 - m) + m * x: the input itself shown through the same mask."""
    m = mask_channels(mask, images)
    return (1 - m) + m * images


def jet(mask: Tensor) -> Tensor:
    """Jet-like colours, dark blue (0) via cyan and yellow to dark red (1): (..., H, W) -> (..., 3, H, W)."""
    m = mask.clamp(0, 1).unsqueeze(-3)  # (..., H, W) -> (..., 1, H, W)
    centres = torch.tensor([3.0, 2.0, 1.0], device=mask.device, dtype=m.dtype).view(3, 1, 1)  # R, G, B
    return (1.5 - (4 * m - centres).abs()).clamp(0, 1)


def heatmap_overlay(mask: Tensor, images: Tensor, alpha: float = 0.5) -> Tensor:
    """The classic Grad-CAM picture: the map in jet colours blended over the input."""
    mask_channels(mask, images)
    return (1 - alpha) * images + alpha * jet(mask).to(images.dtype)


def side_by_side(left: Tensor, right: Tensor, gap: int | None = None) -> Tensor:
    """Two batches (B, 3, H, W) side by side on white, ``gap`` (default H/16) apart: (B, 3, H, 2W+gap)."""
    if left.shape != right.shape or left.dim() != 4:
        raise ValueError(
            "side_by_side expects two equal (B, 3, H, W) batches, "
            f"got {tuple(left.shape)} and {tuple(right.shape)}"
        )
    gap = left.shape[-2] // 16 if gap is None else gap
    white = torch.ones((*left.shape[:-1], gap), dtype=left.dtype, device=left.device)  # (B, 3, H, gap)
    return torch.cat([left, white, right], dim=-1)  # (B, 3, H, 2W + gap)


@dataclass
class Explanation:
    posteriors: Tensor  # (B, C) sigmoid posteriors of M
    prediction_sets: Tensor  # (B, C) bool, classes with posterior > 0.5
    classes: Tensor  # (B,) long, the class each explanation is for (the top class unless given)
    masks: Tensor  # (B, H, W) saliency maps in [0, 1], Grad-CAM's unless another method was asked for
    reconstructions: Tensor  # (B, 3, H, W) D(E(x)) in [0, 1], resized to the input if E's stride demands
    pv: Tensor  # (B, 3, H, W) perception visualizations, (1 - m) + m * y
    gradcam: Tensor  # (B, 3, H, W) the survey's Grad-CAM images, (1 - m) + m * x


def encoded(model: Classifier, images: Tensor) -> Tensor:
    """z = E(x) under inference_mode, returned as an ordinary tensor so the head can still be differentiated.

    The copy is of layer4's small output (2048 x 7 x 7 per image at 224 px); E itself keeps no graph.
    """
    with torch.inference_mode():
        z = model.encode(images)
    return z.clone()


def top_class_attention(
    model: Classifier, images: Tensor, saliency: Saliency | str = GRADCAM, features: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Posteriors (B, C) and how much of each picture the top class's saliency mask shows, (B,) in [0, 1].

    The share is the mask's mean at the input's size, as ``explain`` renders it with the same
    ``saliency``: 0 means the survey's Grad-CAM and PV images would be all white. One pass of E, and a
    backward pass through the head only, unless ``features`` brings E(images) already (``encoded``).
    """
    gradients_allowed("top_class_attention")
    method = saliency_pick(saliency)
    with eval_mode(model):
        z = encoded(model, images) if features is None else features  # (B, K, H/32, W/32)
        gradients, logits, _ = grad_cam_from_features(model.head, z)
        with torch.inference_mode():
            masks = cam_from_gradients(z, gradients, tuple(images.shape[-2:]), method)  # (B, H, W)
            return torch.sigmoid(logits), masks.flatten(1).mean(1)  # (B, H*W) -> (B,)


def explain(
    model: Classifier,
    decoder: Decoder,
    images: Tensor,
    classes: Tensor | None = None,
    saliency: Saliency | str = GRADCAM,
    features: Tensor | None = None,
) -> Explanation:
    """Everything the survey shows for a batch (B, 3, H, W) in [0, 1], from one pass of E.

    Both networks run in eval mode and get their modes back afterwards. ``classes`` defaults to each
    image's top class. ``saliency`` (a method or its key, see ``saliency.SALIENCY_METHODS``) makes the
    mask that both the Grad-CAM image and PV show. ``features`` is E(images) when it was computed
    before (``encoded``), so E does not run again.
    """
    gradients_allowed("explain")
    method = saliency_pick(saliency)
    size = tuple(images.shape[-2:])
    with eval_mode(model, decoder):
        z = encoded(model, images) if features is None else features  # (B, 2048, H/32, W/32)
        gradients, logits, classes = grad_cam_from_features(model.head, z, classes)
        with torch.inference_mode():
            masks = cam_from_gradients(z, gradients, size, method)
            reconstructions = decoder(z).float()  # under bf16 autocast, PV is still composed in fp32
            if reconstructions.shape[-2:] != size:  # an input side that is not a multiple of the stride
                reconstructions = F.interpolate(
                    reconstructions, size=size, mode="bilinear", align_corners=False
                )
            posteriors = torch.sigmoid(logits)
            return Explanation(
                posteriors=posteriors,
                prediction_sets=posteriors > 0.5,
                classes=classes,
                masks=masks,
                reconstructions=reconstructions,
                pv=perception_visualization(masks, reconstructions),
                gradcam=masked_input(masks, images),
            )
