"""The one place outside explainers.nn that handles tensors: it feeds batches to nn and writes the PNGs.

Tensors stay on the render device from the batch to ``save_png``; callers get back plain Python.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from django.conf import settings

from explainers.methods import INPUT, RECONSTRUCTION, Method
from explainers.nn.data import IGNORED, VOC_CLASSES, VOCDataset, data_loader
from explainers.nn.device import device_pick
from explainers.nn.perception import explain, top_class_attention
from explainers.nn.render import save_png
from explainers.services.selection import Prediction
from survey.rules import DIFFICULT_LABELS


def render_device() -> str:
    return str(device_pick(settings.EXPLAINERS_DEVICE))


def dataset_open(*, root: str, split: str, image_size: int, difficult: str = DIFFICULT_LABELS) -> VOCDataset:
    """The split, read once per process while its image list is unchanged, under a difficult policy."""
    ids_file = Path(root) / "ImageSets" / "Main" / f"{split}.txt"
    mtime_ns = ids_file.stat().st_mtime_ns if ids_file.is_file() else 0
    return _dataset_cached(root, split, image_size, mtime_ns, difficult)


@lru_cache(maxsize=2)
def _dataset_cached(root: str, split: str, image_size: int, mtime_ns: int, difficult: str) -> VOCDataset:
    # By default (the authors'), difficult objects count as true labels: a prediction of something that
    # is in the picture, however small, must not be shown to participants as the model being wrong.
    include = difficult == DIFFICULT_LABELS
    return VOCDataset(root, split=split, image_size=image_size, include_difficult=include)


def split_predictions(
    *, classifier: Any, dataset: VOCDataset, device: str, batch_size: int = 32, saliency: str = "gradcam"
) -> list[Prediction]:
    """Every class's posterior and the top class's Grad-CAM mask share for every image, in order."""
    predictions: list[Prediction] = []
    for images, targets in data_loader(dataset, batch_size=batch_size, shuffle=False):
        posteriors, shares = top_class_attention(classifier, images.to(device), saliency=saliency)
        for row, target, share in zip(posteriors.tolist(), targets.tolist(), shares.tolist(), strict=True):
            predictions.append(
                Prediction(
                    key=dataset.ids[len(predictions)],
                    labels=tuple(name for name, t in zip(VOC_CLASSES, target, strict=True) if t > 0),
                    posteriors=dict(zip(VOC_CLASSES, row, strict=True)),
                    attention=share,
                    ignored=tuple(name for name, t in zip(VOC_CLASSES, target, strict=True) if t == IGNORED),
                )
            )
    return predictions


def explanations_write(
    *,
    classifier: Any,
    decoder: Any,
    dataset: VOCDataset,
    indices: Sequence[int],
    classes: Sequence[str],
    targets: Sequence[Mapping[str, Path]],
    device: str,
    methods: Sequence[Method],
    saliency: str = "gradcam",
) -> list[dict[str, str]]:
    """Explain the images at ``indices`` in one batch, each for its class, writing the kinds each asks for.

    ``targets[b]`` maps a kind (input, reconstruction or a method's key) to its file; returns their
    sha256s. Every method's image comes from the same pass of E.
    """
    images = torch.stack([dataset[index][0] for index in indices]).to(device)  # (B, 3, S, S)
    class_ids = torch.tensor([VOC_CLASSES.index(name) for name in classes], device=device)  # (B,)
    explanation = explain(classifier, decoder, images, class_ids, saliency=saliency)
    outputs = {INPUT: images, RECONSTRUCTION: explanation.reconstructions}
    outputs |= {method.key: method.render(images, explanation) for method in methods}
    return [
        {kind: png_write(outputs[kind][b], path) for kind, path in wanted.items()}
        for b, wanted in enumerate(targets)
    ]


def png_write(image: torch.Tensor, path: Path) -> str:
    """Write atomically (a killed worker leaves no half file under ``path``); returns the sha256."""
    partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.png")
    try:
        save_png(image, partial)
        sha256 = hashlib.sha256(partial.read_bytes()).hexdigest()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return sha256
