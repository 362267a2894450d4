"""manage.py export_checkpoint KIND SOURCE DESTINATION: an inference checkpoint, without optimiser state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from explainers.models import Checkpoint
from explainers.services import checkpoint_export, checkpoint_register

MB = 1 << 20


class Command(BaseCommand):
    help = (
        "Write the inference checkpoint of a training checkpoint: the same network, config and metrics, "
        "without the optimiser's state. Render from it; it refuses to resume training."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Checkpoint.Kind.values)
        parser.add_argument("source", type=Path, help="The training checkpoint (train_classifier's --out).")
        parser.add_argument("destination", type=Path, help="A new file for the inference checkpoint.")
        parser.add_argument("--register", action="store_true", help="Also record it for render jobs.")
        parser.add_argument("--name", default="", help="With --register, a name for people.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = checkpoint_export(
                kind=options["kind"], source=options["source"], destination=options["destination"]
            )
            registered = (
                checkpoint_register(kind=options["kind"], path=written, name=options["name"])
                if options["register"]
                else None
            )
        except ValueError as exc:  # RenderError and CheckpointError: the message names the file
            raise CommandError(str(exc)) from exc
        before, after = options["source"].stat().st_size / MB, written.stat().st_size / MB
        summary = f"Wrote {written} ({after:.1f} MB; the training checkpoint is {before:.1f} MB)"
        self.stdout.write(self.style.SUCCESS(summary))
        if registered is not None:
            self.stdout.write(f"Checkpoint {registered.pk}: {registered}")
