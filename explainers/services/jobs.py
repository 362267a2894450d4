"""A render job's life: create (checked), start (questions picked once), finish (study imported), re-run."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from explainers.methods import DEFAULT_METHODS, Method, methods_parse
from explainers.models import Checkpoint, RenderJob, RenderQuestion
from explainers.nn.labels import VOC_CLASSES
from explainers.services.bundle import bundle_write
from explainers.services.checkpoints import checkpoint_network
from explainers.services.errors import RenderError, error_text
from explainers.services.rendering import (
    CLAIM_LEASE,
    job_kinds,
    job_progress_update,
    kinds_missing,
    render_chunk,
)
from explainers.services.selection import Selection, questions_select
from survey.models import Study
from survey.rules import DIFFICULT_LABELS, DIFFICULT_POLICIES

logger = logging.getLogger(__name__)
SAFE_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")  # image ids become file names


def render_root() -> Path:
    """Outside MEDIA_ROOT on purpose: study.json says which answers are right, and media is public."""
    return Path(settings.EXPLAINERS_RENDER_ROOT)


@transaction.atomic
def render_job_create(
    *,
    slug: str,
    classifier: Checkpoint,
    decoder: Checkpoint,
    dataset_root: Path | str,
    name: str = "",
    description: str = "",
    split: str = "test",
    n_correct: int = 16,
    n_wrong: int = 14,
    seed: int = 0,
    methods: Sequence[str] = DEFAULT_METHODS,
    saliency: str = "gradcam",
    difficult: str = DIFFICULT_LABELS,
    image_size: int | None = None,
    chunk_size: int = 32,
    open_study: bool = False,
    import_study: bool = True,
    allow_shortfall: bool = False,
    output_dir: Path | str | None = None,
    enqueue: bool = True,
) -> RenderJob:
    """Check everything that can be checked without running a network, save the job, and enqueue it.

    Without ``enqueue`` the caller runs it, e.g. with ``render_job_run_here``.
    """
    image_size = image_size or int(classifier.config.get("image_size", 224))
    _networks_check(classifier=classifier, decoder=decoder, image_size=image_size)
    _slug_check(slug, import_study=import_study)
    dataset_check(root=Path(dataset_root), split=split)
    if n_correct + n_wrong < 1 or chunk_size < 1:
        raise RenderError(
            f"need at least one question and a chunk size >= 1, got {n_correct}+{n_wrong}, {chunk_size}"
        )
    _output_check(output_dir)
    difficult_check(difficult)
    methods = [method.key for method in _methods_check(methods=methods, saliency=saliency)]
    job = RenderJob.objects.create(
        slug=slug,
        name=name or slug.replace("-", " ").capitalize(),
        description=description,
        classifier=classifier,
        decoder=decoder,
        dataset_root=str(Path(dataset_root).resolve()),
        split=split,
        n_correct=n_correct,
        n_wrong=n_wrong,
        allow_shortfall=allow_shortfall,
        seed=seed,
        methods=methods,
        saliency=saliency,
        difficult=difficult,
        image_size=image_size,
        chunk_size=chunk_size,
        open_study=open_study,
        import_study=import_study,
    )
    job.output_dir = str(Path(output_dir).resolve() if output_dir else render_root() / f"{slug}-{job.pk}")
    job.save(update_fields=["output_dir"])
    if enqueue:
        transaction.on_commit(lambda: _job_enqueue(job.pk))
    return job


def _networks_check(*, classifier: Checkpoint, decoder: Checkpoint, image_size: int) -> None:
    from explainers.nn.classifier import Classifier, feature_channels_of  # torch, only when creating

    for checkpoint, kind in ((classifier, Checkpoint.Kind.CLASSIFIER), (decoder, Checkpoint.Kind.DECODER)):
        if checkpoint.kind != kind:
            raise RenderError(f"{_named(checkpoint)} is a {checkpoint.kind}, expected a {kind}")
    classes = classifier.config.get("num_classes")
    if classes != len(VOC_CLASSES):
        raise RenderError(f"classifier {_named(classifier)} has {classes} classes, not VOC's 20")
    channels, arch = feature_channels_of(classifier.config["arch"]), classifier.config["arch"]
    if decoder.config.get("in_channels") != channels:
        raise RenderError(
            f"decoder {_named(decoder)} takes {decoder.config.get('in_channels')}-channel features, but "
            f"classifier {_named(classifier)} ({arch}) gives {channels}; train a decoder for it"
        )
    stride = decoder.config.get("input_stride")
    if stride != Classifier.feature_stride or image_size % stride:
        raise RenderError(
            f"decoder {_named(decoder)} expects an encoder of stride {stride} and the classifier's is "
            f"{Classifier.feature_stride}; the image size ({image_size}) must be a multiple of it"
        )


def _named(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.path} (checkpoint {checkpoint.pk})"


def _slug_check(slug: str, *, import_study: bool) -> None:
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise RenderError(f"{slug!r} is not a valid slug (letters, digits, - and _)") from exc
    if not import_study:
        return  # the bundle is handed on: whoever imports it checks the slug then
    if Study.objects.filter(slug=slug).exists():
        raise RenderError(f"a study with slug {slug!r} already exists")
    unfinished = [RenderJob.Status.PENDING, RenderJob.Status.RUNNING]
    busy = RenderJob.objects.filter(slug=slug, import_study=True, status__in=unfinished).first()
    if busy is not None:
        raise RenderError(f"render job {busy.pk} already makes the study {slug!r} ({busy.status})")


def dataset_check(*, root: Path, split: str) -> None:
    from explainers.nn.data import voc_layout_check

    try:
        voc_layout_check(root, split)
    except ValueError as exc:
        raise RenderError(str(exc)) from exc


def _methods_check(*, methods: Sequence[str], saliency: str) -> tuple[Method, ...]:
    from explainers.nn.saliency import SALIENCY_METHODS

    if saliency not in SALIENCY_METHODS:
        raise RenderError(f"saliency must be one of {', '.join(SALIENCY_METHODS)}, got {saliency!r}")
    try:
        return methods_parse(methods)
    except ValueError as exc:
        raise RenderError(str(exc)) from exc


def difficult_check(difficult: str) -> None:
    if difficult not in DIFFICULT_POLICIES:
        raise RenderError(
            f"the difficult policy must be one of {', '.join(DIFFICULT_POLICIES)}, got {difficult!r}"
        )


def _output_check(output_dir: Path | str | None) -> None:
    folder = Path(output_dir) if output_dir is not None else None
    if folder is not None and folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise RenderError(f"{folder}: not an empty folder; render into a new or empty one")


def _job_enqueue(job_id: int) -> None:
    from explainers.tasks import render_job_run

    try:
        result = render_job_run.delay(job_id)
    except Exception as exc:
        # Eager mode (no broker) runs the whole job inside delay(), and its tasks have recorded any
        # failure on the job already; with a broker, this is the broker being unreachable.
        logger.exception("render job %s stopped", job_id)
        render_job_fail(job_id=job_id, error=f"the job stopped: {error_text(exc)}")
        return
    RenderJob.objects.filter(pk=job_id).update(celery_task_id=result.id)


def render_job_fail(*, job_id: int, error: str) -> None:
    """Record a failure, unless the job already ended (the first error is the one worth reading)."""
    unfinished = RenderJob.objects.filter(
        pk=job_id, status__in=[RenderJob.Status.PENDING, RenderJob.Status.RUNNING]
    )
    unfinished.update(status=RenderJob.Status.FAILED, error=error, finished_at=timezone.now())


@transaction.atomic
def render_job_retry(*, job: RenderJob) -> RenderJob:
    """Run a failed job again; what it rendered before is kept and only the rest is rendered."""
    job = RenderJob.objects.select_for_update().get(pk=job.pk)
    if job.status != RenderJob.Status.FAILED:
        raise RenderError(f"render job {job.pk} is {job.status}; only a failed job can be re-run")
    if job.import_study and Study.objects.filter(slug=job.slug).exists():
        raise RenderError(f"a study with slug {job.slug!r} exists now; delete it or render under a new slug")
    job.status, job.error, job.finished_at = RenderJob.Status.PENDING, "", None
    job.save(update_fields=["status", "error", "finished_at"])
    job.questions.exclude(claimed_by="").update(claimed_by="", claimed_at=None)  # its tasks have all ended
    transaction.on_commit(lambda: _job_enqueue(job.pk))
    return job


def render_job_start(*, job_id: int) -> list[list[str]] | None:
    """Mark the job running, pick its questions once, and return the keys still to render, in chunks.

    None means the job has ended (a repeated message), so there is nothing to run. Questions a live
    worker holds are left to it: a start delivered again while chunks run sends only the rest.
    """
    if not _job_claim(job_id=job_id):
        return None
    job = RenderJob.objects.select_related("classifier", "decoder").get(pk=job_id)
    if not job.questions.exists():
        _questions_save(job_id=job.pk, selection=_questions_pick(job=job))
    job_progress_update(job_id=job.pk)  # a worker may have died between recording images and counting them
    held = Q(claimed_by="") | Q(claimed_at__lt=timezone.now() - CLAIM_LEASE)
    pending = [
        question.key
        for question in job.questions.filter(held).prefetch_related("images")
        if kinds_missing(question=question, output_dir=Path(job.output_dir), kinds=job_kinds(job))
    ]
    return [pending[i : i + job.chunk_size] for i in range(0, len(pending), job.chunk_size)]


@transaction.atomic
def _job_claim(*, job_id: int) -> bool:
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.status not in {RenderJob.Status.PENDING, RenderJob.Status.RUNNING}:
        return False
    job.status, job.started_at = RenderJob.Status.RUNNING, job.started_at or timezone.now()
    job.save(update_fields=["status", "started_at"])
    return True


def _questions_pick(*, job: RenderJob) -> Selection:
    from explainers.services import inference  # torch, only where networks run

    device = inference.render_device()
    selection = split_select(
        keep_for=job.pk,
        classifier=checkpoint_network(checkpoint=job.classifier, device=device),
        dataset_root=job.dataset_root,
        split=job.split,
        image_size=job.image_size,
        difficult=job.difficult,
        n_correct=job.n_correct,
        n_wrong=job.n_wrong,
        seed=job.seed,
        allow_shortfall=job.allow_shortfall,
        device=device,
        saliency=job.saliency,
    )
    inference.FEATURES.keep_only(job.pk, {pick.prediction.key for pick in selection.picks})
    if selection.blank:  # the job's note says so too
        logger.info("render job %s: left out %s images with an empty Grad-CAM mask", job.pk, selection.blank)
    return selection


def split_select(
    *,
    classifier: Any,
    dataset_root: str,
    split: str,
    image_size: int,
    difficult: str,
    n_correct: int,
    n_wrong: int,
    seed: int,
    allow_shortfall: bool,
    device: str,
    saliency: str = "gradcam",
    keep_for: int | None = None,
) -> Selection:
    """Run M over the split and pick the questions by the paper's rule; writes nothing.

    ``keep_for`` (a job's id) keeps the features of the images it may pick, for rendering them.
    """
    from explainers.services import inference  # torch, only where networks run

    dataset = inference.dataset_open(
        root=dataset_root, split=split, image_size=image_size, difficult=difficult
    )
    unsafe = [key for key in dataset.ids if not SAFE_KEY.match(key)]
    if unsafe:
        raise RenderError(f"{dataset_root}: image ids {', '.join(unsafe[:3])} cannot be used as file names")
    predictions = inference.split_predictions(
        classifier=classifier,
        dataset=dataset,
        device=device,
        batch_size=settings.EXPLAINERS_BATCH_SIZE,
        workers=settings.EXPLAINERS_LOADER_WORKERS,
        saliency=saliency,
        keep_for=keep_for,
    )
    return questions_select(
        predictions=predictions,
        classes=VOC_CLASSES,
        n_correct=n_correct,
        n_wrong=n_wrong,
        seed=seed,
        allow_shortfall=allow_shortfall,
        split=split,
        difficult=difficult,
    )


@transaction.atomic
def _questions_save(*, job_id: int, selection: Selection) -> None:
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.questions.exists():
        return  # a redelivered start picked them first
    role = RenderQuestion.Role
    picks = [(pick, role.QUESTION) for pick in selection.questions]
    picks += [(pick, role.PRACTICE) for pick in selection.practice]
    for pick, kind in [
        (selection.example, role.EXAMPLE),
        (selection.unmistakable, role.ATTENTION),
        (selection.instructed, role.INSTRUCTED),
    ]:
        picks += [(pick, kind)] if pick is not None else []
    RenderQuestion.objects.bulk_create(
        RenderQuestion(
            job=job,
            key=pick.prediction.key,
            order=order,
            role=kind,
            labels=list(pick.prediction.labels),
            prediction=pick.prediction.top,
            confidence=pick.prediction.confidence,
            model_correct=pick.prediction.correct,
            options=list(pick.options),
            prediction_set=list(pick.prediction.prediction_set),
            posteriors={name: round(value, 4) for name, value in pick.prediction.posteriors.items()},
        )
        for order, (pick, kind) in enumerate(picks)
    )
    job.total, job.selection, job.note = (
        len(picks),
        selection.audit,
        selection.note + ("" if selection.example else " No spare image for the intros' example."),
    )
    job.save(update_fields=["total", "selection", "note"])


@transaction.atomic
def render_job_finish(*, job_id: int) -> RenderJob:
    """Write study.json once every image is rendered, then import it as a Study linked to the job.

    The job's row stays locked throughout, so when two workers finish their last chunks together, one
    writes and imports the bundle and the other finds the job done.
    """
    from survey.services.bundles import study_import_bundle

    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.status != RenderJob.Status.RUNNING:
        return job
    output_dir = Path(job.output_dir)
    questions = job.questions.prefetch_related("images")
    kinds = job_kinds(job)
    incomplete = [q.key for q in questions if kinds_missing(question=q, output_dir=output_dir, kinds=kinds)]
    if incomplete:
        raise RenderError(f"render job {job.pk}: images of {', '.join(incomplete[:5])} are not rendered yet")
    bundle_write(job=job)
    if job.import_study:
        job.study = study_import_bundle(directory=output_dir, open_study=job.open_study)
    job.status, job.done, job.finished_at = RenderJob.Status.SUCCEEDED, job.total, timezone.now()
    job.save(update_fields=["study", "status", "done", "finished_at"])
    return job


def render_job_finish_when_done(*, job_id: int) -> RenderJob | None:
    """Finish the job if every question is rendered: the worker that renders the last chunk imports it."""
    running = RenderJob.objects.filter(pk=job_id, status=RenderJob.Status.RUNNING, total__gt=0)
    if running.filter(done=F("total")).exists():
        return render_job_finish(job_id=job_id)
    return None


def render_job_run_here(*, job_id: int) -> RenderJob:
    """Run the whole job in this process, step by step as the tasks would, recording any failure."""
    try:
        for keys in render_job_start(job_id=job_id) or []:
            render_chunk(job_id=job_id, keys=keys)
        return render_job_finish(job_id=job_id)  # a no-op when the last chunk finished the job
    except Exception as exc:
        render_job_fail(job_id=job_id, error=error_text(exc))
        raise
