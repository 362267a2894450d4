"""manage.py train_classifier: transfer learning of M on PASCAL VOC (or its synthetic look-alike)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from explainers.nn.checkpoints import checkpoint_resume_load
from explainers.nn.classifier import (
    ARCHS,
    Classifier,
    ClassifierConfig,
    classifier_build,
    classifier_from_payload,
)
from explainers.nn.data import VOCDataset, data_loader
from explainers.nn.device import device_pick
from explainers.nn.training.classifier import train_classifier
from survey.rules import DIFFICULT_IGNORE, DIFFICULT_LABELS


class Command(BaseCommand):
    help = "Fine-tune a ResNet as a 20-class multi-label VOC classifier; report per-class AP and mAP on val."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--voc", type=Path, required=True, help="VOC folder (JPEGImages, Annotations, ...)."
        )
        parser.add_argument("--out", type=Path, required=True, help="Checkpoint to write after every epoch.")
        parser.add_argument("--arch", choices=ARCHS, default="resnet50", help="torchvision ResNet.")
        parser.add_argument(
            "--backbone-weights", type=Path, help="torchvision ImageNet state_dict file for the backbone."
        )
        parser.add_argument("--resume", type=Path, help="Classifier checkpoint to continue from.")
        parser.add_argument("--epochs", type=int, default=10, help="Total epochs, counting resumed ones.")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument(
            "--lr", type=float, default=1e-4, help="Adam's rate for the backbone (10x for the head)."
        )
        parser.add_argument("--image-size", type=int, default=224, help="Side of the square training images.")
        parser.add_argument("--train-split", default="train", help="ImageSets/Main list to train on.")
        parser.add_argument("--val-split", default="val", help="ImageSets/Main list to evaluate on.")
        parser.add_argument(
            "--ignore-difficult",
            action="store_true",
            help="Leave classes seen only as difficult objects out of the loss and AP, as VOC's protocol "
            "does (default: difficult objects are labels, as the authors had them). Render with the same "
            "choice: render_study --ignore-difficult.",
        )
        parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N.")
        parser.add_argument("--workers", type=int, default=2, help="Data loading processes (0: in-process).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            model, resume = self.model(options)
            history = self.train(model, resume, options)
        except ValueError as exc:  # includes CheckpointError: a bad file or folder, named in the message
            raise CommandError(str(exc)) from exc
        if not history:
            self.stdout.write(f"Nothing to do: the checkpoint already has {options['epochs']} epochs.")
            return
        self.report(history[-1])
        self.stdout.write(self.style.SUCCESS(f"Saved the classifier to {options['out']}"))

    def model(self, options: dict[str, Any]) -> tuple[Classifier, dict[str, Any] | None]:
        device = device_pick(options["device"])
        if options["resume"]:
            resume = checkpoint_resume_load(options["resume"], kind="classifier")
            return classifier_from_payload(resume, path=options["resume"]).to(device), resume
        config = ClassifierConfig(arch=options["arch"], image_size=options["image_size"])
        return classifier_build(config, options["backbone_weights"]).to(device), None

    def train(self, model: Classifier, resume: dict[str, Any] | None, options: dict[str, Any]) -> list[dict]:
        size, difficult = model.config.image_size, not options["ignore_difficult"]
        train_set = VOCDataset(options["voc"], options["train_split"], size, difficult, augment=True)
        val_set = VOCDataset(options["voc"], options["val_split"], size, difficult)
        batch, workers = options["batch_size"], options["workers"]
        return train_classifier(
            model,
            data_loader(train_set, batch_size=batch, shuffle=True, workers=workers),
            data_loader(val_set, batch_size=batch, shuffle=False, workers=workers),
            epochs=options["epochs"],
            lr=options["lr"],
            settings={
                "train_split": options["train_split"],
                "val_split": options["val_split"],
                "difficult": DIFFICULT_IGNORE if options["ignore_difficult"] else DIFFICULT_LABELS,
            },
            out=options["out"],
            resume=resume,
            progress=not options["no_progress"],
            log=self.stdout.write,
        )

    def report(self, metrics: dict[str, Any]) -> None:
        self.stdout.write(f"Validation AP after epoch {metrics['epoch']}:")
        for name, ap in metrics["ap"].items():
            self.stdout.write(f"  {name:<12} {'n/a (no positives)' if math.isnan(ap) else f'{ap:.4f}'}")
        self.stdout.write(f"  {'mAP':<12} {metrics['map']:.4f}")
