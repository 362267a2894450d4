"""A tiny world for render tests: a synthetic VOC split and random-weight resnet18 networks at 64 px.

The classifier's biases make {"aeroplane"} its prediction set for every image, so by the paper's rule it
is right exactly on the images that hold an aeroplane and nothing else, and wrong on those without one,
facts the tests can read from the annotations. The blind classifier is
the same with only negative weights on "aeroplane": its Grad-CAM mask is empty on every image.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from explainers.nn.classifier import ClassifierConfig, classifier_build, classifier_save
from explainers.nn.data import VOC_CLASSES, VOCDataset, write_synthetic_voc
from explainers.nn.decoder import Decoder, DecoderConfig, decoder_save
from explainers.services import checkpoint_register, render_job_create

if TYPE_CHECKING:
    from explainers.models import RenderJob

IMAGE_SIZE = 64
FAVOURITE = "aeroplane"
SMALL_DECODER = {"widths": (16, 16, 8, 8, 8), "convs": (1, 1, 1, 1, 1)}


@dataclass(frozen=True)
class TinyWorld:
    voc: Path
    classifier: Path
    decoder: Path
    wrong_decoder: Path  # built for resnet50's 2048 channels, so it does not fit the resnet18
    blind_classifier: Path  # the top class's Grad-CAM mask is empty (all zero) on every image

    def right_keys(self) -> set[str]:
        dataset = VOCDataset(self.voc, split="test", image_size=IMAGE_SIZE, include_difficult=True)
        return {key for index, key in enumerate(dataset.ids) if dataset.labels(index) == [FAVOURITE]}


@cache
def tiny_world(base: Path) -> TinyWorld:
    """Built once per test process; every test only reads it."""
    base.mkdir(parents=True, exist_ok=True)
    voc = write_synthetic_voc(base / "voc", n_train=0, n_val=0, n_test=12, image_size=IMAGE_SIZE, seed=0)
    torch.manual_seed(0)
    config = ClassifierConfig(arch="resnet18", image_size=IMAGE_SIZE)
    classifier = classifier_build(config)
    with torch.no_grad():  # posterior 1 for the favourite, 0 for every other class
        classifier.fc.bias -= 1000.0
        classifier.fc.bias[VOC_CLASSES.index(FAVOURITE)] += 2000.0
    classifier_save(classifier, base / "classifier.pt", metrics={"map": 0.5, "ap": {"cat": float("nan")}})
    favourite = VOC_CLASSES.index(FAVOURITE)
    with torch.no_grad():  # layer4 ends in a ReLU, so negative weights leave no positive evidence
        classifier.fc.weight[favourite] = -classifier.fc.weight[favourite].abs()
    classifier_save(classifier, base / "blind_classifier.pt")
    decoder_save(Decoder(DecoderConfig.for_classifier(config, **SMALL_DECODER)), base / "decoder.pt")
    wrong = Decoder(DecoderConfig(in_channels=2048, **SMALL_DECODER))
    decoder_save(wrong, base / "wrong_decoder.pt")
    return TinyWorld(
        voc,
        base / "classifier.pt",
        base / "decoder.pt",
        base / "wrong_decoder.pt",
        base / "blind_classifier.pt",
    )


def tiny_job_create(world: TinyWorld, *, output_dir: Path, **extra: object) -> RenderJob:
    """A render job over the tiny world's networks and split: one right and two wrong questions by default."""
    arguments = {"slug": "tiny", "n_correct": 1, "n_wrong": 2, "output_dir": output_dir}
    return render_job_create(
        classifier=checkpoint_register(kind="classifier", path=world.classifier),
        decoder=checkpoint_register(kind="decoder", path=world.decoder),
        dataset_root=world.voc,
        **{**arguments, **extra},
    )


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)  # poll interval, not a wait for something to happen
