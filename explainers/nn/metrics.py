"""How good M and D are: M's AP per class, mAP and BCE; D's MSE, SSIM, PSNR, DSIM and top-class agreement."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from explainers.nn.classifier import Classifier
from explainers.nn.data import IGNORED, images_of
from explainers.nn.decoder import Decoder
from explainers.nn.device import autocast, model_device
from explainers.nn.labels import VOC_CLASSES
from explainers.nn.losses import ssim

Metrics = dict[str, Any]


def masked_bce(logits: Tensor, target: Tensor) -> Tensor:
    """Mean BCE over the entries that count: those ``IGNORED`` (difficult objects only) are left out."""
    counted = (target != IGNORED).float()
    total = F.binary_cross_entropy_with_logits(logits, target.clamp_min(0), weight=counted, reduction="sum")
    return total / counted.sum().clamp_min(1)


def average_precision(scores: Tensor, positives: Tensor, counted: Tensor | None = None) -> float:
    """Non-interpolated AP: the mean of the precision at the rank of each positive; NaN with no positives.

    This is scikit-learn's ``average_precision_score`` (with ties broken by order), not VOC's: VOC2007
    averages an 11-point interpolated precision and VOC2010+ the monotone envelope of the curve, both a
    little higher. Entries where ``counted`` is False (difficult objects) take no part, as in VOC.
    """
    if counted is not None:
        scores, positives = scores[counted], positives[counted]
    if not positives.any():
        return math.nan
    order = scores.argsort(descending=True, stable=True)
    hits = positives[order].float()
    precision = hits.cumsum(0) / torch.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def class_names_of(model: Classifier, names: Sequence[str] | None) -> Sequence[str]:
    """The names of the model's classes: those given, else VOC's for a 20-class model, else class_<k>."""
    count = model.config.num_classes
    if names is None:
        names = VOC_CLASSES if count == len(VOC_CLASSES) else [f"class_{k}" for k in range(count)]
    if len(names) != count:
        raise ValueError(f"{len(names)} class names given for a classifier with {count} classes")
    return names


def classifier_scores(model: Classifier, images: Tensor) -> Tensor:
    """Logits in float32: only E runs in mixed precision, since bf16 logits (about 3 significant
    digits) tie, and tied scores make AP depend on the order of the dataset."""
    with autocast(images.device):
        z = model.encode(images)
    return model.head(z.float())


def classifier_evaluate(
    model: Classifier, loader: Iterable, class_names: Sequence[str] | None = None
) -> Metrics:
    """Per-class AP ({class: AP}, NaN for a class never present), mAP over the others, and the BCE.

    AP is non-interpolated (see ``average_precision``); targets ``IGNORED`` count in neither AP nor BCE.
    """
    device, names = model_device(model), class_names_of(model, class_names)
    scores, targets = [], []
    model.eval()
    with torch.inference_mode():
        for images, target in loader:
            scores.append(classifier_scores(model, images.to(device)).cpu())
            targets.append(target)
    logits, target = torch.cat(scores), torch.cat(targets)
    counted = target != IGNORED
    ap = {
        name: average_precision(logits[:, k], target[:, k] > 0.5, counted[:, k])
        for k, name in enumerate(names)
    }
    present = [value for value in ap.values() if not math.isnan(value)]
    mean_ap = sum(present) / len(present) if present else math.nan
    return {"ap": ap, "map": mean_ap, "loss": float(masked_bce(logits, target))}


def decoder_evaluate(classifier: Classifier, decoder: Decoder, loader: Iterable) -> Metrics:
    """Mean MSE, SSIM, PSNR (dB), DSIM of y = D(E(x)) against x, and how often M(y), M(x) agree on top."""
    device = model_device(decoder)
    sums = dict.fromkeys(("mse", "ssim", "psnr", "dsim", "agreement"), 0.0)
    count = 0
    classifier.eval()
    decoder.eval()
    with torch.inference_mode():
        for batch in loader:
            x = images_of(batch).to(device)
            with autocast(device):
                z = classifier.encode(x)
                y = decoder(z)
                z_y = classifier.encode(y)
                agree = classifier.head(z_y).argmax(1) == classifier.head(z).argmax(1)
            y, z, z_y = y.float(), z.float(), z_y.float()  # metrics in full precision
            mse = (y - x).pow(2).flatten(1).mean(1)  # (B, 3, H, W) -> (B,)
            sums["mse"] += float(mse.sum())
            sums["ssim"] += float(ssim(y, x, reduction="none").sum())
            sums["psnr"] += float((10 * torch.log10(1 / mse.clamp_min(1e-10))).sum())
            sums["dsim"] += float((z_y - z).pow(2).flatten(1).mean(1).sum())  # (B, C, h, w) -> (B,)
            sums["agreement"] += float(agree.sum())
            count += len(x)
    return {key: value / max(count, 1) for key, value in sums.items()}
