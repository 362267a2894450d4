"""Write a study's answers as a long-format CSV file, one row per answer (see analysis.responses)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analysis.responses import responses_write
from analysis.services import responses_export, study_get, study_responses
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Export a study's answers to CSV (participant, condition, question, ..., response_ms)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="The study to export.")
        parser.add_argument("file", metavar="FILE.csv", help="Where to write; '-' for standard output.")

    def handle(self, *args: Any, slug: str, file: str, **options: Any) -> None:
        try:
            study = study_get(slug=slug)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if file == "-":
            responses_write(study_responses(study=study), self.stdout)
            return
        try:
            written = responses_export(study=study, path=file)
        except OSError as exc:
            raise CommandError(f"Cannot write {file}: {exc.strerror}") from exc
        self.stderr.write(f"Wrote {written} answers to {file}")
