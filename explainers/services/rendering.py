"""Rendering a chunk of a job's questions: the input, each method's image and the reconstruction, as PNGs.

Any number of workers may render one job's chunks at once. A worker claims the questions of its chunk
before it renders them, so no question is rendered by two workers at a time: a question claimed by a
live worker is skipped, and only the same task, delivered again because its worker died, may take over
a claim (or anyone, once a claim outlives every task's time limit). A chunk may also run again after a
worker died mid-way: images whose row and file both exist are kept, and only the missing ones are
rendered (batched) and recorded (in one bulk write), so nothing is lost or doubled.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from explainers.methods import INPUT, RECONSTRUCTION, methods_parse
from explainers.models import RenderedImage, RenderJob, RenderQuestion
from explainers.services.checkpoints import checkpoint_network
from explainers.services.errors import RenderError

# Longer than any render task may run (render_chunk_task's hard limit is 660 s): a claim this old has
# no live holder, whatever became of its message.
CLAIM_LEASE = timedelta(minutes=15)
Wanted = list[tuple[RenderQuestion, dict[str, Path]]]


def job_kinds(job: RenderJob) -> tuple[str, ...]:
    """The images each question of ``job`` gets: the input, one per method, and the reconstruction."""
    return tuple(dict.fromkeys((INPUT, *job.methods, RECONSTRUCTION)))


def image_relpath(*, key: str, kind: str) -> str:
    """Where each kind of image lives inside the job's output folder (the bundle's layout)."""
    if kind in {INPUT, RECONSTRUCTION}:
        return f"{'images' if kind == INPUT else 'reconstructions'}/{key}.png"
    return f"explanations/{key}_{kind}.png"


def kinds_missing(*, question: RenderQuestion, output_dir: Path, kinds: Sequence[str]) -> dict[str, Path]:
    """Kinds with no row or no file yet, and the file each should be written to."""
    have = {image.kind for image in question.images.all() if (output_dir / image.path).is_file()}
    return {
        kind: output_dir / image_relpath(key=question.key, kind=kind) for kind in kinds if kind not in have
    }


def render_chunk(*, job_id: int, keys: Sequence[str], claim: str = "") -> int:
    """Render whatever is missing for ``keys``; returns how many questions needed work.

    ``claim`` names the holder: the Celery task id, so that the same message delivered again after its
    worker died takes its claims over. Without one, the call claims as itself.
    """
    job = RenderJob.objects.select_related("classifier", "decoder").get(pk=job_id)
    if job.status != RenderJob.Status.RUNNING:
        return 0  # failed or finished meanwhile: a late or repeated message changes nothing
    unknown = sorted(set(keys) - set(job.questions.filter(key__in=keys).values_list("key", flat=True)))
    if unknown:
        raise RenderError(f"render job {job.pk} has no questions {', '.join(unknown)}")
    claim = claim or f"local-{uuid.uuid4().hex}"
    if not questions_claim(job=job, keys=keys, claim=claim):
        return 0  # every one is rendered, or being rendered by another worker
    try:
        rendered = _render_claimed(job=job, claim=claim)
    except BaseException:
        with suppress(DatabaseError):  # with the database gone, the task's retry takes them over
            claims_release(job=job, claim=claim)  # this process lives: another worker may take them now
        raise
    job_progress_update(job_id=job.pk)
    return rendered


def questions_claim(*, job: RenderJob, keys: Sequence[str], claim: str) -> int:
    """Claim the questions of ``keys`` that no live worker holds; returns how many ``claim`` holds now.

    One UPDATE: on PostgreSQL a concurrent claimer waits for the row and re-checks it, so one wins.
    """
    free = Q(claimed_by="") | Q(claimed_by=claim) | Q(claimed_at__lt=timezone.now() - CLAIM_LEASE)
    return job.questions.filter(free, key__in=keys).update(claimed_by=claim, claimed_at=timezone.now())


def claims_release(*, job: RenderJob, claim: str) -> None:
    job.questions.filter(claimed_by=claim).update(claimed_by="", claimed_at=None)


def _render_claimed(*, job: RenderJob, claim: str) -> int:
    # Read after claiming: a worker that rendered them first recorded its images before letting go.
    questions = job.questions.filter(claimed_by=claim).prefetch_related("images")
    output_dir, kinds = Path(job.output_dir), job_kinds(job)
    wanted = [
        (q, targets)
        for q in questions
        if (targets := kinds_missing(question=q, output_dir=output_dir, kinds=kinds))
    ]
    hashes: list[dict[str, str]] = []
    if wanted:
        RenderQuestion.objects.filter(pk__in=[q.pk for q, _ in wanted]).update(attempts=F("attempts") + 1)
        hashes = _render(job=job, wanted=wanted)
    images_record(job=job, wanted=wanted, hashes=hashes, claim=claim)
    return len(wanted)


def _render(*, job: RenderJob, wanted: Wanted) -> list[dict[str, str]]:
    from explainers.services import inference  # torch, only where images are made

    device = inference.render_device()
    dataset = inference.dataset_open(root=job.dataset_root, split=job.split, image_size=job.image_size)
    index_of = {key: index for index, key in enumerate(dataset.ids)}
    gone = [question.key for question, _ in wanted if question.key not in index_of]
    if gone:
        raise RenderError(f"{job.dataset_root} ({job.split}) no longer lists {', '.join(gone)}")
    for _, targets in wanted:
        for path in targets.values():
            path.parent.mkdir(parents=True, exist_ok=True)
    return inference.explanations_write(
        classifier=checkpoint_network(checkpoint=job.classifier, device=device),
        decoder=checkpoint_network(checkpoint=job.decoder, device=device),
        dataset=dataset,
        indices=[index_of[question.key] for question, _ in wanted],
        classes=[question.prediction for question, _ in wanted],
        targets=[targets for _, targets in wanted],
        device=device,
        methods=methods_parse(job.methods),
        saliency=job.saliency,
        precision=settings.EXPLAINERS_PRECISION,
        batch_size=settings.EXPLAINERS_BATCH_SIZE,
        workers=settings.EXPLAINERS_LOADER_WORKERS,
        threads=settings.EXPLAINERS_PNG_THREADS,
        features_of=job.pk,
    )


@transaction.atomic
def images_record(*, job: RenderJob, wanted: Wanted, hashes: list[dict[str, str]], claim: str) -> None:
    """Record the chunk's images in one bulk write, and let its questions go, all or nothing."""
    rows = [
        RenderedImage(question=q, kind=kind, path=image_relpath(key=q.key, kind=kind), sha256=sha256)
        for (q, _), written in zip(wanted, hashes, strict=True)
        for kind, sha256 in written.items()
    ]
    RenderedImage.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["question", "kind"], update_fields=["path", "sha256"]
    )
    done = [question.pk for question, _ in wanted]
    RenderQuestion.objects.filter(pk__in=done).update(rendered_by=f"{socket.gethostname()} pid {os.getpid()}")
    claims_release(job=job, claim=claim)


@transaction.atomic
def job_progress_update(*, job_id: int) -> None:
    """Count the questions with every kind rendered; locked so concurrent chunks never write a stale count."""
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    complete = job.questions.annotate(rendered=Count("images")).filter(rendered=len(job_kinds(job))).count()
    if job.done != complete:
        job.done = complete
        job.save(update_fields=["done"])
