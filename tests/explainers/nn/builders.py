"""Small networks and datasets for the explainers.nn tests: random weights, 64 px, nothing downloaded."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from explainers.nn.classifier import Classifier, ClassifierConfig, classifier_build
from explainers.nn.decoder import Decoder, DecoderConfig

SIZE = 64  # resnet18 at 64 px: z is (B, 512, 2, 2)
NARROW = (16, 16, 8, 8, 8)  # decoder widths small enough for a CPU test


def tiny_classifier(seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    return classifier_build(ClassifierConfig(arch="resnet18", image_size=SIZE)).eval()


def tiny_decoder(classifier: Classifier, seed: int = 0) -> Decoder:
    torch.manual_seed(seed)
    return Decoder(DecoderConfig.for_classifier(classifier, widths=NARROW)).eval()


def images(batch: int = 2, seed: int = 0, size: int = SIZE) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def targets(*positives: list[int]) -> torch.Tensor:
    """Multi-hot VOC targets (B, 20), one row per image listing its classes."""
    multi_hot = torch.zeros(len(positives), 20)
    for row, classes in enumerate(positives):
        multi_hot[row, classes] = 1
    return multi_hot


def voc_annotation(objects: list[tuple[str, bool]]) -> str:
    parts = [
        f"<object><name>{name}</name><difficult>{int(hard)}</difficult></object>" for name, hard in objects
    ]
    return f"<annotation><filename>x.jpg</filename>{''.join(parts)}</annotation>"


def voc_folder(root: Path, annotations: dict[str, list[tuple[str, bool]]], split: str = "train") -> Path:
    """A hand-made VOC folder: one grey JPEG and one annotation per id, all ids in ``split``."""
    for folder in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for image_id, objects in annotations.items():
        Image.new("RGB", (40, 30), (128, 128, 128)).save(root / "JPEGImages" / f"{image_id}.jpg")
        (root / "Annotations" / f"{image_id}.xml").write_text(voc_annotation(objects))
    (root / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(annotations) + "\n")
    return root
