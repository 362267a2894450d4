from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.commands import application_errors
from survey.services.bundles import study_import_bundle


class Command(BaseCommand):
    help = "Import a study bundle (a folder with study.json and its images). Nothing is imported on error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="the bundle folder")
        parser.add_argument(
            "--open", dest="open_study", action="store_true", help="open the study to participants at once"
        )
        parser.add_argument(
            "--replace", action="store_true", help="replace the study with this slug (if nobody took part)"
        )

    def handle(
        self, *args: object, directory: Path, open_study: bool, replace: bool, **options: object
    ) -> None:
        try:
            with application_errors(f"Nothing was imported from {directory}:"):
                study = study_import_bundle(directory=directory, open_study=open_study, replace=replace)
        except OSError as exc:
            raise CommandError(f"Nothing was imported: the images could not be stored ({exc})") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported study {study.slug!r}: {study.conditions.count()} conditions, "
                f"{study.questions.count()} questions, status {study.get_status_display().lower()}, "
                f"completion code {study.completion_code}."
            )
        )
