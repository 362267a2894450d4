"""A finished job as a study bundle: study.json (survey.services.bundle_spec) next to the rendered images."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from explainers.methods import INPUT, Method, methods_parse
from explainers.models import RenderJob, RenderQuestion
from explainers.nn.labels import VOC_CLASSES
from explainers.services.rendering import image_relpath
from survey.services.bundle_spec import (
    BundleSpec,
    ConditionSpec,
    ExampleSpec,
    QuestionSpec,
    bundle_json_write,
)

DESCRIPTION = (
    "An AI model has looked at a series of photos and named what it sees. For each photo you will see an "
    "explanation of the model's decision; your task is to guess what the model predicted."
)
EXAMPLE_GAP = 8  # white pixels between the photo and its explanation in an introduction's example


def bundle_spec(*, job: RenderJob) -> BundleSpec:
    """The study bundle of the job's rendered images: one condition per method, in the job's order."""
    questions = list(job.questions.order_by("order"))
    example = next((q for q in questions if q.is_example), None)
    root = Path(job.output_dir)
    return BundleSpec(
        directory=root,
        slug=job.slug,
        name=job.name,
        description=job.description or DESCRIPTION,
        classes=tuple(VOC_CLASSES),
        saliency=job.saliency,
        selection=job.selection,
        conditions=tuple(
            _condition_spec(method, example=example, root=root) for method in methods_parse(job.methods)
        ),
        questions=tuple(
            _question_spec(q, methods=job.methods, root=root) for q in questions if not q.is_example
        ),
    )


def _condition_spec(method: Method, *, example: RenderQuestion | None, root: Path) -> ConditionSpec:
    examples = () if example is None else (_example_spec(example, method=method, root=root),)
    return ConditionSpec(key=method.key, name=method.name, intro=method.introduction, examples=examples)


def _example_spec(example: RenderQuestion, *, method: Method, root: Path) -> ExampleSpec:
    """The photo and its explanation side by side, so the introduction shows how to read one."""
    path = root / "examples" / f"{example.key}_{method.key}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        Image.open(root / image_relpath(key=example.key, kind=INPUT)) as photo,
        Image.open(root / image_relpath(key=example.key, kind=method.key)) as explanation,
    ):
        pair = Image.new("RGB", (photo.width + EXAMPLE_GAP + explanation.width, photo.height), "white")
        pair.paste(photo.convert("RGB"), (0, 0))
        pair.paste(explanation.convert("RGB"), (photo.width + EXAMPLE_GAP, 0))
    pair.save(path, format="PNG")
    caption = f"For this photo the model predicted \u201c{example.prediction}\u201d."
    return ExampleSpec(image=path, caption=caption)


def _question_spec(question: RenderQuestion, *, methods: list[str], root: Path) -> QuestionSpec:
    return QuestionSpec(
        key=question.key,
        image=root / image_relpath(key=question.key, kind=INPUT),
        labels=tuple(question.labels),
        prediction=question.prediction,
        model_correct=question.model_correct,
        options=tuple(question.options),
        explanations={key: root / image_relpath(key=question.key, kind=key) for key in methods},
        prediction_set=tuple(question.prediction_set),
        posteriors=question.posteriors,
    )


def bundle_write(*, job: RenderJob) -> Path:
    """Write study.json atomically into the job's output folder; returns the folder."""
    return bundle_json_write(spec=bundle_spec(job=job))
