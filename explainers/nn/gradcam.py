"""Grad-CAM and its kin: which parts of layer4's activation raise the score of one class.

For class c, a saliency method (see ``saliency``) weighs each channel, alpha_k, from the activation A and
the gradient d score_c / d A (for Grad-CAM, its mean over (i, j)), and the map is ReLU(sum_k alpha_k A_k),
upsampled bilinearly to the input and min-max normalised per image. The score is the logit: for Grad-CAM
the sigmoid would multiply every gradient of an image by the same sigma'(s) > 0, which normalisation
cancels, and Grad-CAM++'s closed form assumes the logit.
Autograd is asked for the gradient of the activation only, so no parameter's ``.grad`` is touched and the
backward pass stops at the layer (the head, after a forward pass, is all it costs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from explainers.nn.saliency import GRADCAM, Saliency, saliency_pick


class ActivationCapture:
    """Owns a forward hook that keeps a layer's latest output; the hook is removed on exit, error or not.

    With ``require_grad`` the output is made a graph leaf when nothing before it needs a gradient
    (a frozen model fed plain images), so that the gradient to it can still be asked for.
    """

    def __init__(self, layer: nn.Module, *, require_grad: bool = False) -> None:
        self.layer = layer
        self.require_grad = require_grad
        self.activation: Tensor | None = None
        self.handle: torch.utils.hooks.RemovableHandle | None = None

    def __enter__(self) -> ActivationCapture:
        self.handle = self.layer.register_forward_hook(self.keep)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None

    def keep(self, module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> Tensor:
        if self.require_grad and torch.is_grad_enabled() and not output.requires_grad:
            output = output.detach().requires_grad_()
        self.activation = output
        return output


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Run in eval mode (batch norm on its running statistics), then restore each module's mode."""
    previous = [module.training for module in modules]
    try:
        for module in modules:
            module.eval()
        yield
    finally:
        for module, training in zip(modules, previous, strict=True):
            module.train(training)


def gradients_allowed(caller: str) -> None:
    if torch.is_inference_mode_enabled():
        raise RuntimeError(
            f"{caller} needs one gradient and cannot run under torch.inference_mode(); "
            "call it outside that block (it switches gradients on by itself, even under torch.no_grad())"
        )


def inputs_check(images: Tensor, classes: Tensor) -> None:
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"grad_cam expects images of shape (B, 3, H, W), got {tuple(images.shape)}")
    if classes.dim() != 1 or classes.shape[0] != images.shape[0] or classes.is_floating_point():
        raise ValueError(
            f"grad_cam expects one integer class per image, shape ({images.shape[0]},), "
            f"got {classes.dtype} {tuple(classes.shape)}"
        )


def class_scores(logits: Tensor, classes: Tensor) -> Tensor:
    """Sum over the batch of each image's own class logit; images do not mix, so one backward serves all."""
    return logits.gather(1, classes.view(-1, 1).to(logits.device)).sum()


def minmax_normalise(maps: Tensor) -> Tensor:
    """Per-image min-max to [0, 1]. A flat map has no ranking: zero stays zero, a positive one becomes 1."""
    flat = maps.flatten(1)  # (B, H, W) -> (B, H*W)
    low, high = flat.min(1).values, flat.max(1).values
    spread = (high - low).view(-1, 1, 1)
    scaled = (maps - low.view(-1, 1, 1)) / spread.clamp_min(torch.finfo(maps.dtype).tiny)
    return torch.where(spread > 0, scaled, (maps > 0).to(maps.dtype))


def cam_from_gradients(
    activation: Tensor, gradients: Tensor, size: tuple[int, int], saliency: Saliency | str = GRADCAM
) -> Tensor:
    """Saliency maps (B, H, W) in [0, 1] from a layer's activation and its gradient, both (B, K, h, w)."""
    method = saliency_pick(saliency)
    # float32 throughout: Grad-CAM++ cubes gradients that half precision would flush to zero.
    activation, gradients = activation.float(), gradients.float()
    alpha = method.channel_weights(activation, gradients)[:, :, None, None]  # (B, K) -> (B, K, 1, 1)
    cam = F.relu((alpha * activation).sum(dim=1, keepdim=True))  # (B, 1, h, w)
    cam = F.interpolate(cam, size=size, mode="bilinear", align_corners=False)
    return minmax_normalise(cam.squeeze(1))  # (B, 1, H, W) -> (B, H, W)


def grad_cam(
    model: nn.Module, layer: nn.Module, images: Tensor, classes: Tensor, saliency: Saliency | str = GRADCAM
) -> Tensor:
    """Grad-CAM of ``layer`` for one class per image: (B, 3, H, W) in [0, 1] -> (B, H, W) in [0, 1].

    ``model`` returns logits. Its train/eval mode is left as the caller set it. ``saliency`` picks
    another method, such as "gradcam++" (see ``saliency.SALIENCY_METHODS``).
    """
    gradients_allowed("grad_cam")
    inputs_check(images, classes)
    method = saliency_pick(saliency)
    if images.is_inference():
        images = images.clone()  # made under inference_mode earlier: autograd may not save it
    with torch.enable_grad(), ActivationCapture(layer, require_grad=True) as capture:
        scores = class_scores(model(images), classes)
    if capture.activation is None:
        raise ValueError("grad_cam: the given layer did not run during the model's forward pass")
    (gradients,) = torch.autograd.grad(scores, capture.activation)
    return cam_from_gradients(capture.activation.detach(), gradients, tuple(images.shape[-2:]), method)


def grad_cam_from_features(
    head: Callable[[Tensor], Tensor], features: Tensor, classes: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of each image's class score w.r.t. precomputed features, the logits and the classes.

    ``classes`` defaults to each image's top class. This is how ``explain`` shares one pass of E
    between Grad-CAM and the decoder: the backward pass runs through the head only.
    """
    gradients_allowed("grad_cam")
    with torch.enable_grad():
        leaf = features.detach().requires_grad_()
        logits = head(leaf)
        classes = logits.detach().argmax(dim=1) if classes is None else classes.to(logits.device)
        (gradients,) = torch.autograd.grad(class_scores(logits, classes), leaf)
    return gradients, logits.detach(), classes
