"""A finished job as a study bundle: study.json next to the rendered images."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from explainers.models import RenderJob, RenderQuestion
from explainers.nn.labels import VOC_CLASSES
from explainers.services.rendering import image_relpath

CONDITIONS = (
    {
        "key": "gradcam",
        "name": "Grad-CAM",
        "intro": (
            "Each picture is shown through a mask computed from the model. Where the model paid most "
            "attention, you see the photo itself; where it paid little attention, the photo fades to "
            "white. Look at the parts the model focused on and guess which class it predicted."
        ),
    },
    {
        "key": "pv",
        "name": "Perception Visualization",
        "intro": (
            "Each picture shows what the model perceived. Where the model paid most attention, you see "
            "an image rebuilt from the model's internal representation: how the model 'sees' that part "
            "of the photo, which may differ from the photo itself. Where it paid little attention, the "
            "picture is white. Look at what the model saw and guess which class it predicted."
        ),
    },
)
DESCRIPTION = (
    "An AI model has looked at a series of photos and named what it sees. For each photo you will see an "
    "explanation of the model's decision; your task is to guess what the model predicted."
)


def bundle_data(*, job: RenderJob) -> dict[str, Any]:
    """The study.json document (format of survey.services.bundles) for the job's rendered images."""
    questions = list(job.questions.order_by("order"))
    example = next((q for q in questions if q.is_example), None)
    conditions = [{**condition, "examples": _examples(example, condition["key"])} for condition in CONDITIONS]
    asked = [question for question in questions if not question.is_example]
    data = {
        "slug": job.slug,
        "name": job.name,
        "description": job.description or DESCRIPTION,
        "classes": list(VOC_CLASSES),
        "n_correct": sum(question.model_correct for question in asked),
        "n_wrong": sum(not question.model_correct for question in asked),
        "conditions": conditions,
        "questions": [_question_data(question) for question in asked],
    }
    if job.selection:
        data["selection"] = job.selection
    return data


def _examples(example: RenderQuestion | None, kind: str) -> list[dict[str, str]]:
    if example is None:
        return []
    caption = f"For this photo the model predicted \u201c{example.prediction}\u201d."
    return [{"image": image_relpath(key=example.key, kind=kind), "caption": caption}]


def _question_data(question: RenderQuestion) -> dict[str, Any]:
    return {
        "key": question.key,
        "image": image_relpath(key=question.key, kind="input"),
        "labels": question.labels,
        "prediction": question.prediction,
        "model_correct": question.model_correct,
        "options": question.options,
        "prediction_set": question.prediction_set,
        "posteriors": question.posteriors,
        "explanations": {
            condition["key"]: image_relpath(key=question.key, kind=condition["key"])
            for condition in CONDITIONS
        },
    }


def bundle_write(*, job: RenderJob) -> Path:
    """Write study.json atomically into the job's output folder; returns the folder."""
    directory = Path(job.output_dir)
    partial = directory / ".study.json.partial"
    partial.write_text(json.dumps(bundle_data(job=job), indent=2) + "\n")
    os.replace(partial, directory / "study.json")
    return directory
