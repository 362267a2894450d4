from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.commands import application_errors
from survey.selectors.studies import study_by_slug
from survey.services.bundles import study_export_bundle


class Command(BaseCommand):
    help = "Write a study as a bundle (study.json and its images) into a new or empty folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the study to export")
        parser.add_argument("directory", type=Path, help="a new or empty folder")

    def handle(self, *args: object, slug: str, directory: Path, **options: object) -> None:
        study = study_by_slug(slug=slug)
        if study is None:
            raise CommandError(f"There is no study with slug {slug!r}.")
        with application_errors():
            written = study_export_bundle(study=study, directory=directory)
        self.stdout.write(self.style.SUCCESS(f"Exported study {slug!r} to {written}"))
