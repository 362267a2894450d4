"""manage.py render_study: render a PV vs Grad-CAM study from a classifier, a decoder and a VOC split."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from explainers.methods import DEFAULT_METHODS, METHODS
from explainers.models import RenderJob
from explainers.nn.saliency import SALIENCY_METHODS
from explainers.services import checkpoint_register, render_job_create
from explainers.services.selection import Selection
from survey.rules import DIFFICULT_IGNORE, DIFFICULT_LABELS
from survey.services.selection_audit import SELECTION_COUNT_LABELS

POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Pick questions the model gets right and wrong, render their Grad-CAM and PV images, and import "
        "them as a study. Without a Celery broker everything runs here; with one, a worker renders."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--classifier", type=Path, required=True, help="Classifier checkpoint.")
        parser.add_argument("--decoder", type=Path, required=True, help="Decoder checkpoint for it.")
        parser.add_argument(
            "--voc", type=Path, required=True, help="VOC folder (JPEGImages, Annotations, …)."
        )
        parser.add_argument("--slug", required=True, help="Slug of the new study.")
        parser.add_argument("--name", default="", help="Study name (default: from the slug).")
        parser.add_argument("--description", default="", help="Landing-page text for participants.")
        parser.add_argument("--split", default="test", help="VOC ImageSets/Main list to pick from.")
        parser.add_argument("--n-correct", type=int, default=16, help="Questions the model gets right.")
        parser.add_argument("--n-wrong", type=int, default=14, help="Questions the model gets wrong.")
        parser.add_argument(
            "--allow-shortfall", action="store_true", help="Fill a short pool from the other."
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the question and option picks.")
        parser.add_argument(
            "--methods",
            default=",".join(DEFAULT_METHODS),
            help=f"Explanation methods, one condition each, in this order (known: {', '.join(METHODS)}; "
            "default: %(default)s).",
        )
        parser.add_argument(
            "--saliency",
            choices=SALIENCY_METHODS,
            default=SALIENCY_METHODS[0],
            help="What makes the masks of Grad-CAM, PV and the other methods (default: %(default)s).",
        )
        parser.add_argument(
            "--ignore-difficult",
            action="store_true",
            help="Leave classes seen only as difficult objects out of the labels (default: they are labels, "
            "as the authors had it).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Run the classifier over the split and list the questions it would pick; render and write "
            "nothing.",
        )
        parser.add_argument("--image-size", type=int, help="Side of the images (default: the classifier's).")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=32,
            help="Images per render task; the job's tasks are shared by every worker (default: %(default)s).",
        )
        parser.add_argument("--output-dir", type=Path, help="New or empty folder for the bundle.")
        parser.add_argument("--open", action="store_true", help="Open the study once it is imported.")
        parser.add_argument("--wait", action="store_true", help="With a broker, wait for the worker.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds --wait waits at most.")

    def handle(self, *args: Any, **options: Any) -> None:
        difficult = DIFFICULT_IGNORE if options["ignore_difficult"] else DIFFICULT_LABELS
        if options["dry_run"]:
            self.dry_run(options, difficult=difficult)
            return
        try:
            job = render_job_create(
                slug=options["slug"],
                classifier=checkpoint_register(kind="classifier", path=options["classifier"]),
                decoder=checkpoint_register(kind="decoder", path=options["decoder"]),
                name=options["name"],
                description=options["description"],
                methods=options["methods"].split(","),
                chunk_size=options["chunk_size"],
                open_study=options["open"],
                output_dir=options["output_dir"],
                **selection_arguments(options, difficult=difficult),
            )
        except ValueError as exc:  # bad checkpoints, folders or numbers; nothing was created
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Render job {job.pk} for study {job.slug!r}, writing to {job.output_dir}")
        job.refresh_from_db()
        if options["wait"]:
            job = self.wait(job, deadline=time.monotonic() + options["timeout"])
        self.report(job)

    def dry_run(self, options: dict[str, Any], *, difficult: str) -> None:
        from explainers.services.preview import selection_preview

        try:
            selection = selection_preview(
                classifier_path=options["classifier"], **selection_arguments(options, difficult=difficult)
            )
        except ValueError as exc:
            raise CommandError(f"Dry run: {exc}") from exc
        self.stdout.write(selection_report(selection))

    def wait(self, job: RenderJob, *, deadline: float) -> RenderJob:
        shown = ""
        while not job.is_finished and time.monotonic() < deadline:
            if f"{job.status} {job.progress}" != shown:
                shown = f"{job.status} {job.progress}"
                self.stdout.write(f"  {job.status}: {job.progress} images")
            time.sleep(POLL_SECONDS)  # a command waiting on a worker, not a test
            job.refresh_from_db()
        return job

    def report(self, job: RenderJob) -> None:
        if job.note:
            self.stdout.write(job.note)
        if job.status == RenderJob.Status.FAILED:
            raise CommandError(f"Render job {job.pk} failed: {job.error}")
        if job.status != RenderJob.Status.SUCCEEDED:
            self.stdout.write(f"Render job {job.pk} is {job.status} ({job.progress}); a worker renders it.")
            return
        url = reverse("survey:landing", kwargs={"slug": job.study.slug})
        state = "open" if job.study.is_open else "a draft (open it in the admin)"
        self.stdout.write(self.style.SUCCESS(f"Study {job.study.slug!r} is {state}: {url}"))


SELECTION_OPTIONS = ("split", "n_correct", "n_wrong", "seed", "saliency", "image_size", "allow_shortfall")


def selection_arguments(options: dict[str, Any], *, difficult: str) -> dict[str, Any]:
    """What the render job and its dry run both pick questions by."""
    return {name: options[name] for name in SELECTION_OPTIONS} | {
        "dataset_root": options["voc"],
        "difficult": difficult,
    }


def selection_report(selection: Selection) -> str:
    """The dry run's text: the counts by category, then every pick with its labels, P, top and options."""
    audit = selection.audit
    lines = [
        "Dry run: nothing was rendered or written.",
        f"Selection rule {audit['rule']} on the {audit['split']} split, seed {audit['seed']}, difficult "
        f"objects: {audit['difficult']}.",
        *(f"  {audit[key]:>6}  {text}" for key, text in SELECTION_COUNT_LABELS[:-2]),
        f"Picked {audit['picked_correct']} right and {audit['picked_incorrect']} wrong questions:",
    ]
    picks = [(pick, "") for pick in selection.questions]
    extras = [
        (selection.example, " (example for the introductions)"),
        *((pick, " (practice)") for pick in selection.practice),
        (selection.unmistakable, " (attention check: unmistakable)"),
        (selection.instructed, " (attention check: instructed response)"),
    ]
    picks += [(pick, role) for pick, role in extras if pick is not None]
    for pick, role in picks:
        p = pick.prediction
        lines.append(
            f"  {p.key}: {'right' if p.correct else 'wrong'}{role}; labels {', '.join(p.labels)}; "
            f"P {', '.join(p.prediction_set)}; top {p.top} ({p.confidence:.2f}); "
            f"options {', '.join(pick.options)}"
        )
    return "\n".join(lines)
