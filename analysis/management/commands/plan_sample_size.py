"""Plan a study's sample size from a pilot: the power of its own test at increasing n per condition."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analysis.management.commands.analyze_results import condition_pair
from analysis.planning import PlanSettings, SamplePlan
from analysis.plots import POWER_FILENAME, figures_write, power_curve_png
from analysis.report import plan_render_text
from analysis.services import (
    sample_size_plan_file,
    sample_size_plan_paper,
    sample_size_plan_study,
    study_get,
)
from analysis.stats import ALTERNATIVES, P_METHODS, SUBSETS
from core.commands import application_errors


class Command(BaseCommand):
    help = (
        "The smallest n per condition whose Mann-Whitney test reaches the target power, simulated by "
        "resampling a pilot's per-participant accuracies (a study, a responses file, or the paper's scores)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--study", metavar="SLUG", help="A study in the database as the pilot.")
        source.add_argument("--responses", metavar="FILE.csv", help="A file written by export_responses.")
        source.add_argument(
            "--paper", action="store_true", help="The paper's published scores (58 Grad-CAM, 40 PV)."
        )
        parser.add_argument("--subset", choices=SUBSETS, default="incorrect", help="Default: incorrect.")
        parser.add_argument(
            "--conditions", metavar="FIRST,SECOND", help="The pair (default: the pilot's first two)."
        )
        parser.add_argument(
            "--alternative",
            choices=ALTERNATIVES,
            help="H1 of the first against the second (default: the paper's, less for incorrect).",
        )
        parser.add_argument("--alpha", type=float, default=0.05)
        parser.add_argument("--power", type=float, default=0.8, help="The target power (default 0.8).")
        parser.add_argument("--simulations", type=int, default=1000, help="Simulated studies per n.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--step", type=int, default=5, help="The grid of n: step, 2·step, ...")
        parser.add_argument("--max-n", type=int, default=100, help="The largest n per condition tried.")
        parser.add_argument(
            "--p-method",
            choices=P_METHODS,
            default="auto",
            help="As analyze_results: auto is exact below 20 per group (exact above that is slow).",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--plots", metavar="DIR", help=f"Also write {POWER_FILENAME} here.")

    @application_errors()
    def handle(self, *args: Any, **options: Any) -> None:
        settings = PlanSettings(
            subset=options["subset"],
            alternative=options["alternative"],
            alpha=options["alpha"],
            power=options["power"],
            simulations=options["simulations"],
            seed=options["seed"],
            step=options["step"],
            max_n=options["max_n"],
            p_method=options["p_method"],
        )
        plan = self._plan(options, settings, condition_pair(options["conditions"]))
        if options["format"] == "json":
            self.stdout.write(json.dumps(plan.plan, indent=2, ensure_ascii=False, allow_nan=False))
        else:
            self.stdout.write(plan_render_text(plan.plan, plan.names), ending="")
        if options["plots"]:
            self._plot(plan, options["plots"])

    def _plan(
        self, options: dict[str, Any], settings: PlanSettings, pair: tuple[str, str] | None
    ) -> SamplePlan:
        if options["paper"]:
            return sample_size_plan_paper(settings=settings, conditions=pair)
        if options["responses"]:
            try:
                return sample_size_plan_file(path=options["responses"], settings=settings, conditions=pair)
            except OSError as exc:
                raise CommandError(f"Cannot read {options['responses']}: {exc.strerror or exc}") from exc
        study = study_get(slug=options["study"])
        return sample_size_plan_study(study=study, settings=settings, conditions=pair)

    def _plot(self, plan: SamplePlan, directory: str) -> None:
        png = power_curve_png(plan.plan, names=plan.names)
        try:
            (path,) = figures_write({POWER_FILENAME: png}, directory=directory)
        except OSError as exc:
            raise CommandError(
                f"Cannot write the plot to {exc.filename or directory}: {exc.strerror}"
            ) from exc
        self.stderr.write(f"Wrote {path}")
