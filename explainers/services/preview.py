"""The dry run of a study build: M over the split and the paper's selection, with nothing written."""

from __future__ import annotations

from pathlib import Path

from explainers.nn.labels import VOC_CLASSES
from explainers.services.errors import RenderError
from explainers.services.jobs import dataset_check, difficult_check, split_select
from explainers.services.selection import Selection
from survey.rules import DIFFICULT_LABELS


def selection_preview(
    *,
    classifier_path: Path | str,
    dataset_root: Path | str,
    split: str = "test",
    n_correct: int = 16,
    n_wrong: int = 14,
    seed: int = 0,
    difficult: str = DIFFICULT_LABELS,
    saliency: str = "gradcam",
    image_size: int | None = None,
    allow_shortfall: bool = False,
) -> Selection:
    """What ``render_job_create`` would pick, without registering, rendering or writing anything.

    A split short of eligible images raises RenderError with the count of each kind.
    """
    from explainers.nn.checkpoints import CheckpointError
    from explainers.services import inference
    from explainers.services.checkpoints import network_load

    device = inference.render_device()
    try:
        classifier = network_load(kind="classifier", path=Path(classifier_path).expanduser(), device=device)
    except (CheckpointError, OSError) as exc:
        raise RenderError(str(exc)) from exc
    if classifier.config.num_classes != len(VOC_CLASSES):
        raise RenderError(
            f"classifier {classifier_path} has {classifier.config.num_classes} classes, not VOC's 20"
        )

    difficult_check(difficult)
    dataset_check(root=Path(dataset_root), split=split)
    return split_select(
        classifier=classifier,
        dataset_root=str(Path(dataset_root).resolve()),
        split=split,
        image_size=image_size or classifier.config.image_size,
        difficult=difficult,
        n_correct=n_correct,
        n_wrong=n_wrong,
        seed=seed,
        allow_shortfall=allow_shortfall,
        device=device,
        saliency=saliency,
    )
