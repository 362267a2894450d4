"""The dry run of a study build from the admin: queued to a render worker (the classifier runs over the
whole split, too long for a web request), recorded, and shown to the researcher when it is done."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from explainers.models import Checkpoint, SelectionDryRun
from explainers.services.datasets import dataset_folder
from explainers.services.errors import RenderError, error_text
from explainers.services.jobs import difficult_check
from explainers.services.selection import Pick, Selection

logger = logging.getLogger(__name__)


@transaction.atomic
def dry_run_create(
    *,
    classifier: Checkpoint,
    dataset_root: Path | str,
    split: str,
    n_correct: int,
    n_wrong: int,
    seed: int = 0,
    difficult: str = "labels",
    saliency: str = "gradcam",
    allow_shortfall: bool = False,
    build: dict[str, Any] | None = None,
) -> SelectionDryRun:
    """Check what can be checked at once, record the dry run and queue it for a render worker."""
    if classifier.kind != Checkpoint.Kind.CLASSIFIER:
        raise RenderError(f"{classifier} is a {classifier.kind}, not a classifier")
    folder = dataset_folder(path=dataset_root)
    if split not in folder.splits:
        raise RenderError(f"{folder.label} has no {split!r} split (it has {', '.join(folder.splits)})")
    if n_correct + n_wrong < 1:
        raise RenderError("ask for at least one question")
    difficult_check(difficult)
    dry_run = SelectionDryRun.objects.create(
        classifier=classifier,
        dataset_root=str(folder.path),
        split=split,
        n_correct=n_correct,
        n_wrong=n_wrong,
        seed=seed,
        difficult=difficult,
        saliency=saliency,
        allow_shortfall=allow_shortfall,
        build=build or {},
    )
    transaction.on_commit(lambda: _enqueue(dry_run.pk))
    return dry_run


def _enqueue(dry_run_id: int) -> None:
    from explainers.dry_run_tasks import selection_dry_run

    try:
        selection_dry_run.delay(dry_run_id)
    except Exception as exc:  # the broker is unreachable: say so on the dry run
        logger.exception("dry run %s could not be queued", dry_run_id)
        _finish(dry_run_id, status=SelectionDryRun.Status.FAILED, error=f"not queued: {error_text(exc)}")


def dry_run_execute(*, dry_run_id: int) -> SelectionDryRun:
    """Run the selection as the render job would and record what it picked, or why it could not."""
    from explainers.services.preview import selection_preview  # torch, only in the worker

    claimed = SelectionDryRun.objects.filter(pk=dry_run_id, status=SelectionDryRun.Status.PENDING)
    if not claimed.update(status=SelectionDryRun.Status.RUNNING):
        return SelectionDryRun.objects.get(pk=dry_run_id)  # a repeated message: it ran already
    dry_run = SelectionDryRun.objects.select_related("classifier").get(pk=dry_run_id)
    try:
        selection = selection_preview(
            classifier_path=dry_run.classifier.path,
            dataset_root=dry_run.dataset_root,
            split=dry_run.split,
            n_correct=dry_run.n_correct,
            n_wrong=dry_run.n_wrong,
            seed=dry_run.seed,
            difficult=dry_run.difficult,
            saliency=dry_run.saliency,
            allow_shortfall=dry_run.allow_shortfall,
        )
    except Exception as exc:  # recorded for the researcher, who reads it on the build page
        logger.info("dry run %s failed: %s", dry_run_id, exc, exc_info=not isinstance(exc, ValueError))
        return _finish(dry_run_id, status=SelectionDryRun.Status.FAILED, error=error_text(exc))
    return _finish(dry_run_id, status=SelectionDryRun.Status.SUCCEEDED, **_found(selection))


def _found(selection: Selection) -> dict[str, Any]:
    picks = [_pick(pick, example=False) for pick in selection.questions]
    if selection.example is not None:
        picks.append(_pick(selection.example, example=True))
    return {"audit": selection.audit, "picks": picks, "note": selection.note}


def _pick(pick: Pick, *, example: bool) -> dict[str, Any]:
    prediction = pick.prediction
    return {
        "key": prediction.key,
        "correct": prediction.correct,
        "example": example,
        "labels": list(prediction.labels),
        "prediction_set": list(prediction.prediction_set),
        "top": prediction.top,
        "confidence": round(prediction.confidence, 4),
        "options": list(pick.options),
    }


def _finish(dry_run_id: int, *, status: str, **fields: Any) -> SelectionDryRun:
    SelectionDryRun.objects.filter(pk=dry_run_id).update(status=status, finished_at=timezone.now(), **fields)
    return SelectionDryRun.objects.get(pk=dry_run_id)
