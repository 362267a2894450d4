"""manage.py train_decoder: train D to invert a trained classifier's frozen encoder E."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from django.core.management.base import BaseCommand, CommandError, CommandParser
from torch.utils.data import Dataset, Subset

from explainers.nn.checkpoints import checkpoint_resume_load
from explainers.nn.classifier import Classifier, classifier_load
from explainers.nn.data import ImageFolderDataset, VOCDataset, data_loader
from explainers.nn.decoder import Decoder, DecoderConfig, decoder_load
from explainers.nn.device import device_pick
from explainers.nn.losses import LossWeights
from explainers.nn.training.decoder import train_decoder


def loss_weights(text: str) -> LossWeights:
    """``a1,a2,a3`` for MSE, 1 - SSIM and DSIM. Runs inside argparse, so errors are argparse's kind."""
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers a1,a2,a3, got {text!r}")
    try:
        return LossWeights(*(float(part) for part in parts))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from exc


class Command(BaseCommand):
    help = "Train the decoder D of Perception Visualization on VOC or any folder of images."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--classifier", type=Path, required=True, help="Trained classifier checkpoint (E, M)."
        )
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--voc", type=Path, help="VOC folder: trains on --train-split, validates on val.")
        source.add_argument("--images", type=Path, help="Any folder of images; --val-fraction is held out.")
        parser.add_argument("--out", type=Path, required=True, help="Checkpoint to write after every epoch.")
        parser.add_argument("--resume", type=Path, help="Decoder checkpoint to continue from.")
        parser.add_argument("--epochs", type=int, default=10, help="Total epochs, counting resumed ones.")
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--lr", type=float, default=1e-4, help="Adam's learning rate.")
        parser.add_argument("--loss-weights", type=loss_weights, default=LossWeights(), help="a1,a2,a3.")
        parser.add_argument("--transposed-kernel", type=int, choices=(2, 3), default=3)
        parser.add_argument("--image-size", type=int, help="Training image side (default: the classifier's).")
        parser.add_argument("--train-split", default="train", help="VOC ImageSets/Main list to train on.")
        parser.add_argument("--val-split", default="val", help="VOC ImageSets/Main list to validate on.")
        parser.add_argument("--val-fraction", type=float, default=0.1, help="Held out of --images.")
        parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N.")
        parser.add_argument("--workers", type=int, default=2, help="Data loading processes (0: in-process).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            history = self.train(options)
        except ValueError as exc:  # includes CheckpointError: a bad file or folder, named in the message
            raise CommandError(str(exc)) from exc
        if not history:
            self.stdout.write(f"Nothing to do: the checkpoint already has {options['epochs']} epochs.")
            return
        self.stdout.write(self.style.SUCCESS(f"Saved the decoder to {options['out']}"))

    def train(self, options: dict[str, Any]) -> list[dict]:
        device = device_pick(options["device"])
        classifier = classifier_load(options["classifier"], map_location=device)
        decoder, resume = self.decoder(classifier, options, device)
        size = options["image_size"] or classifier.config.image_size
        stride = classifier.feature_stride
        if size % stride:
            raise CommandError(
                f"--image-size {size} is not a multiple of the encoder's stride ({stride}): "
                "the decoder's reconstruction would not match the input's size"
            )
        train_set, val_set = self.datasets(options, size)
        batch, workers = options["batch_size"], options["workers"]
        return train_decoder(
            classifier,
            decoder,
            data_loader(train_set, batch_size=batch, shuffle=True, workers=workers),
            data_loader(val_set, batch_size=batch, shuffle=False, workers=workers),
            epochs=options["epochs"],
            lr=options["lr"],
            weights=options["loss_weights"],
            out=options["out"],
            resume=resume,
            progress=not options["no_progress"],
            log=self.stdout.write,
        )

    def decoder(
        self, classifier: Classifier, options: dict[str, Any], device: torch.device
    ) -> tuple[Decoder, dict[str, Any] | None]:
        if not options["resume"]:
            config = DecoderConfig.for_classifier(classifier, transposed_kernel=options["transposed_kernel"])
            return Decoder(config).to(device), None
        resume = checkpoint_resume_load(options["resume"], kind="decoder")
        decoder = decoder_load(options["resume"], map_location=device)
        if decoder.config.in_channels != classifier.feature_channels:
            raise CommandError(
                f"{options['resume']}: decoder expects {decoder.config.in_channels} channels but the "
                f"classifier's layer4 gives {classifier.feature_channels}"
            )
        return decoder, resume

    def datasets(self, options: dict[str, Any], size: int) -> tuple[Dataset, Dataset]:
        if options["voc"]:
            voc = options["voc"]
            return VOCDataset(voc, options["train_split"], size, augment=True), VOCDataset(
                voc, options["val_split"], size
            )
        train_images = ImageFolderDataset(options["images"], size, augment=True)
        val_images = ImageFolderDataset(options["images"], size)
        held_out = max(1, round(len(val_images) * options["val_fraction"]))
        if held_out >= len(val_images):
            raise CommandError(
                f"{options['images']}: {len(val_images)} images are too few to hold {held_out} out"
            )
        generator = torch.Generator().manual_seed(0)  # the same split on every run and resume
        order = torch.randperm(len(val_images), generator=generator).tolist()
        return Subset(train_images, order[held_out:]), Subset(val_images, order[:held_out])
