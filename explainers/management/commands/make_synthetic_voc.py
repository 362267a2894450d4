"""manage.py make_synthetic_voc DIR: a small VOC-layout dataset of scenes drawn from each class's emoji."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from explainers.nn.data import write_synthetic_voc
from explainers.nn.glyphs import glyphs_load


class Command(BaseCommand):
    help = "Write a small PASCAL VOC-layout dataset of procedural scenes (each class drawn as its emoji)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "dir", type=Path, help="Folder to write JPEGImages/, Annotations/, ImageSets/Main/ in."
        )
        parser.add_argument("--train", type=int, default=40, help="Images in the train split.")
        parser.add_argument("--val", type=int, default=12, help="Images in the val split.")
        parser.add_argument("--test", type=int, default=12, help="Images in the test split.")
        parser.add_argument("--size", type=int, default=128, help="Side of the square images, in pixels.")
        parser.add_argument(
            "--seed", type=int, default=0, help="Random seed; the same seed writes the same set."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        glyphs = glyphs_load()
        if glyphs.note:
            self.stderr.write(self.style.WARNING(glyphs.note))
        try:
            root = write_synthetic_voc(
                options["dir"],
                n_train=options["train"],
                n_val=options["val"],
                n_test=options["test"],
                image_size=options["size"],
                seed=options["seed"],
                glyphs=glyphs,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        total = options["train"] + options["val"] + options["test"]
        self.stdout.write(self.style.SUCCESS(f"Wrote {total} synthetic VOC images ({glyphs.kind}) to {root}"))
