"""A finished job as a study bundle: study.json (survey.services.bundle_spec) next to the rendered images."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from explainers.methods import INPUT, Method, methods_parse
from explainers.models import RenderJob, RenderQuestion
from explainers.nn.labels import VOC_CLASSES, VOC_DISPLAY_NAMES
from explainers.services.rendering import image_relpath
from survey.constants import CANT_TELL
from survey.services.bundle_spec import (
    AttentionSpec,
    BundleSpec,
    ComprehensionSpec,
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
    """The study bundle of the job's rendered images: one condition per method, in the job's order, each
    with its method's comprehension questions; practice questions and attention checks from the spares."""
    by_role: dict[str, list[RenderQuestion]] = {role: [] for role in RenderQuestion.Role}
    for question in job.questions.order_by("order"):
        by_role[question.role].append(question)
    example = next(iter(by_role[RenderQuestion.Role.EXAMPLE]), None)
    root = Path(job.output_dir)
    return BundleSpec(
        directory=root,
        slug=job.slug,
        name=job.name,
        description=job.description or DESCRIPTION,
        classes=tuple(VOC_CLASSES),
        class_names=dict(VOC_DISPLAY_NAMES),
        saliency=job.saliency,
        selection=job.selection,
        conditions=tuple(
            _condition_spec(method, example=example, root=root) for method in methods_parse(job.methods)
        ),
        questions=tuple(
            _question_spec(q, methods=job.methods, root=root) for q in by_role[RenderQuestion.Role.QUESTION]
        ),
        practice=tuple(
            _question_spec(q, methods=job.methods, root=root) for q in by_role[RenderQuestion.Role.PRACTICE]
        ),
        attention=tuple(
            _attention_spec(q, methods=job.methods, root=root)
            for role in (RenderQuestion.Role.ATTENTION, RenderQuestion.Role.INSTRUCTED)
            for q in by_role[role]
        ),
    )


def _condition_spec(method: Method, *, example: RenderQuestion | None, root: Path) -> ConditionSpec:
    examples = () if example is None else (_example_spec(example, method=method, root=root),)
    comprehension = tuple(ComprehensionSpec(c.prompt, c.choices, c.answer) for c in method.comprehension)
    return ConditionSpec(
        key=method.key,
        name=method.name,
        intro=method.introduction,
        examples=examples,
        comprehension=comprehension,
    )


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
    shown = VOC_DISPLAY_NAMES.get(example.prediction, example.prediction)
    caption = f"For this photo the model predicted \u201c{shown}\u201d."
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


def _attention_spec(check: RenderQuestion, *, methods: list[str], root: Path) -> AttentionSpec:
    """An unmistakable image expects its class; an instructed response expects "I just can't tell"."""
    unmistakable = check.role == RenderQuestion.Role.ATTENTION
    return AttentionSpec(
        key=check.key,
        kind="image" if unmistakable else "instructed",
        image=root / image_relpath(key=check.key, kind=INPUT),
        options=tuple(check.options),
        answer=check.prediction if unmistakable else CANT_TELL,
        explanations={key: root / image_relpath(key=check.key, kind=key) for key in methods},
        labels=tuple(check.labels),
        prediction=check.prediction,
    )


def bundle_write(*, job: RenderJob) -> Path:
    """Write study.json atomically into the job's output folder; returns the folder."""
    return bundle_json_write(spec=bundle_spec(job=job))
