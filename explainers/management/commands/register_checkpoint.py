"""manage.py register_checkpoint KIND PATH: check a checkpoint file and record it in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from explainers.models import Checkpoint
from explainers.services import checkpoint_register


class Command(BaseCommand):
    help = "Check that a file holds a classifier or decoder checkpoint, and record it (once per file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Checkpoint.Kind.values)
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", default="", help="A name for people (default: the file's name).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = checkpoint_register(kind=options["kind"], path=options["path"], name=options["name"])
        except ValueError as exc:  # RenderError and CheckpointError: the message names the file
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Checkpoint {checkpoint.pk}: {checkpoint}"))
        self.stdout.write(f"  config: {checkpoint.config}")
