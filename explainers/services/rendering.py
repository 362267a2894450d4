"""Rendering a chunk of a job's questions: input, Grad-CAM, PV and reconstruction PNGs.

A chunk may run again after a worker died mid-way: images whose row and file both exist are kept,
and only the missing ones are rendered (one batched pass) and recorded, so nothing is lost or doubled.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from explainers.methods import INPUT, RECONSTRUCTION, methods_parse
from explainers.models import RenderedImage, RenderJob, RenderQuestion
from explainers.services.checkpoints import checkpoint_network
from explainers.services.errors import RenderError


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


def render_chunk(*, job_id: int, keys: Sequence[str]) -> int:
    """Render whatever is missing for ``keys``; returns how many questions needed work."""
    job = RenderJob.objects.select_related("classifier", "decoder").get(pk=job_id)
    if job.status != RenderJob.Status.RUNNING:
        return 0  # failed or finished meanwhile: a late or repeated message changes nothing
    questions = list(job.questions.filter(key__in=keys).prefetch_related("images"))
    unknown = sorted(set(keys) - {question.key for question in questions})
    if unknown:
        raise RenderError(f"render job {job.pk} has no questions {', '.join(unknown)}")
    output_dir, kinds = Path(job.output_dir), job_kinds(job)
    wanted = [
        (q, targets)
        for q in questions
        if (targets := kinds_missing(question=q, output_dir=output_dir, kinds=kinds))
    ]
    if wanted:
        _render(job=job, wanted=wanted)
    job_progress_update(job_id=job.pk)
    return len(wanted)


def _render(*, job: RenderJob, wanted: list[tuple[RenderQuestion, dict[str, Path]]]) -> None:
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
    hashes = inference.explanations_write(
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
    )
    for (question, _), written in zip(wanted, hashes, strict=True):
        for kind, sha256 in written.items():
            RenderedImage.objects.update_or_create(
                question=question,
                kind=kind,
                defaults={"path": image_relpath(key=question.key, kind=kind), "sha256": sha256},
            )


@transaction.atomic
def job_progress_update(*, job_id: int) -> None:
    """Count the questions with every kind rendered; locked so concurrent chunks never write a stale count."""
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    complete = job.questions.annotate(rendered=Count("images")).filter(rendered=len(job_kinds(job))).count()
    if job.done != complete:
        job.done = complete
        job.save(update_fields=["done"])
