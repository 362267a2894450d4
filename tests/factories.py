"""Small builders for test data. Each returns saved rows; nothing is hidden in global state."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

from django.core.files.base import ContentFile
from PIL import Image

from explainers.nn.labels import VOC_CLASSES as LABELS
from survey.models import Condition, Explanation, Question, Study

VOC_CLASSES = list(LABELS)  # the classes, defined once in explainers.nn.labels


@lru_cache(maxsize=8)
def png_bytes(colour: tuple[int, int, int] = (200, 40, 40), size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def image_file(name: str = "img.png") -> ContentFile:
    return ContentFile(png_bytes(), name=name)


def make_study(
    *,
    slug: str = "pv-vs-gradcam",
    conditions: Sequence[str] = ("gradcam", "pv"),
    n_correct: int = 16,
    n_wrong: int = 14,
    status: str = Study.Status.OPEN,
    policy: str = Study.Policy.ROUND_ROBIN,
    completion_code: str = "C0MPL3TE",
) -> Study:
    """A study shaped like the paper's: questions where the model was right, then where it was wrong."""
    study = Study.objects.create(
        slug=slug,
        name=f"Study {slug}",
        status=status,
        assignment_policy=policy,
        classes=VOC_CLASSES,
        completion_code=completion_code,
    )
    made = [
        Condition.objects.create(study=study, key=key, name=key.upper(), intro=f"How {key} works.", order=i)
        for i, key in enumerate(conditions)
    ]
    for index in range(n_correct + n_wrong):
        make_question(study=study, index=index, model_correct=index < n_correct, conditions=made)
    return study


def make_question(
    *, study: Study, index: int, model_correct: bool, conditions: Sequence[Condition]
) -> Question:
    options = [VOC_CLASSES[(index + k) % len(VOC_CLASSES)] for k in range(4)]
    prediction = options[0]
    labels = [prediction] if model_correct else [options[1]]
    question = Question.objects.create(
        study=study,
        key=f"q{index:03d}",
        image=image_file(f"q{index:03d}.png"),
        labels=labels,
        prediction=prediction,
        model_correct=model_correct,
        options=options,
        order=index,
    )
    for condition in conditions:
        Explanation.objects.create(
            question=question, condition=condition, image=image_file(f"q{index:03d}_{condition.key}.png")
        )
    return question
