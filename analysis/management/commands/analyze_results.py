"""Print a study's results: the participant flow, Table 1, the Mann-Whitney tests, dropout and per-question
accuracy."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analysis.plots import FIGURES, analysis_figures, figures_write
from analysis.report import results_render_text
from analysis.results import Analysis, AnalysisOptions
from analysis.services import file_results, study_get, study_results
from analysis.stats import ALTERNATIVES, P_METHODS
from core.commands import application_errors


class Command(BaseCommand):
    help = "Analyse a study (from the database, or from a file written by export_responses)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--study", metavar="SLUG", help="The study to analyse.")
        source.add_argument(
            "--responses", metavar="FILE.csv", help="A responses file instead of the database."
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--plots", metavar="DIR", help="Also write the figures here (PNG).")
        parser.add_argument(
            "--figure",
            choices=FIGURES,
            action="append",
            help="Write only this figure with --plots (repeat for more; default: every one).",
        )
        parser.add_argument(
            "--conditions",
            metavar="FIRST,SECOND",
            help="The pair to test one-sided (default: the study's first two conditions).",
        )
        parser.add_argument("--alternative-incorrect", choices=ALTERNATIVES, default="less")
        parser.add_argument("--alternative-correct", choices=ALTERNATIVES, default="greater")
        parser.add_argument(
            "--min-answers", type=int, metavar="N", help="Also count unfinished participants with N answers."
        )
        parser.add_argument("--continuity", action="store_true", help="Use the continuity correction.")
        parser.add_argument(
            "--p-method",
            choices=P_METHODS,
            default="auto",
            help="Mann-Whitney p: exact (permutation), normal, or auto: exact below 20 per group (default).",
        )
        parser.add_argument(
            "--bootstrap-resamples",
            type=int,
            default=2000,
            metavar="N",
            help="Resamples of the bootstrap CI.",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of every random draw (default 0).")
        parser.add_argument(
            "--no-mixed-model",
            dest="mixed_model",
            action="store_false",
            help="Skip the logistic mixed model (it takes a second or two on a study of the paper's size).",
        )
        exclusions = parser.add_argument_group("exclusions")
        exclusions.add_argument(
            "--min-median-ms",
            type=int,
            metavar="MS",
            help="Leave out participants whose median response time is under MS milliseconds.",
        )
        exclusions.add_argument(
            "--keep-pilots", action="store_true", help="Count pilot and preview participants too."
        )
        exclusions.add_argument(
            "--keep-attention-failed",
            action="store_true",
            help="Count participants who failed an attention check too.",
        )

    @application_errors()
    def handle(self, *args: Any, **options: Any) -> None:
        analysis = self._analyse(options)
        if options["format"] == "json":
            self.stdout.write(json.dumps(analysis.results, indent=2, ensure_ascii=False, allow_nan=False))
        else:
            self.stdout.write(results_render_text(analysis.results), ending="")
        if options["plots"]:
            self._plot(analysis, options["plots"], options["figure"] or FIGURES)

    def _plot(self, analysis: Analysis, directory: str, which: list[str]) -> None:
        figures = analysis_figures(analysis, which=which)
        try:
            paths = figures_write(figures, directory=directory)
        except OSError as exc:
            raise CommandError(
                f"Cannot write the plots to {_failing_path(exc, directory)}: {_reason(exc)}"
            ) from exc
        for path in paths:
            self.stderr.write(f"Wrote {path}")

    def _analyse(self, options: dict[str, Any]) -> Analysis:
        settings = AnalysisOptions(
            conditions=condition_pair(options["conditions"]),
            alternative_incorrect=options["alternative_incorrect"],
            alternative_correct=options["alternative_correct"],
            min_answers=options["min_answers"],
            continuity=options["continuity"],
            p_method=options["p_method"],
            bootstrap_resamples=options["bootstrap_resamples"],
            seed=options["seed"],
            exclude_pilots=not options["keep_pilots"],
            exclude_attention_failed=not options["keep_attention_failed"],
            min_median_ms=options["min_median_ms"],
            mixed_model=options["mixed_model"],
        )
        if options["responses"]:
            try:
                return file_results(path=options["responses"], options=settings)
            except OSError as exc:
                failing = _failing_path(exc, options["responses"])
                raise CommandError(f"Cannot read {failing}: {_reason(exc)}") from exc
        return study_results(study=study_get(slug=options["study"]), options=settings)


def _failing_path(exc: OSError, default: str) -> str:
    """The file the system call failed on (the folder, or a figure in it), else what the user gave."""
    return str(exc.filename) if exc.filename is not None else default


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def condition_pair(raw: str | None) -> tuple[str, str] | None:
    """--conditions "gradcam,pv" as a pair of keys; a CommandError unless it names two."""
    if raw is None:
        return None
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if len(keys) != 2:
        raise CommandError(f"--conditions takes two condition keys separated by a comma, got {raw!r}")
    return keys[0], keys[1]
