"""Write small, valid study bundles to disk, and look at what an import left behind."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from tests.factories import VOC_CLASSES, png_bytes


def bundle_write(
    directory: Path,
    *,
    slug: str = "bundled",
    n_questions: int = 3,
    conditions: tuple[str, ...] = ("gradcam", "pv"),
) -> Path:
    """A bundle with `n_questions` questions, the first model-correct and the rest model-wrong."""
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "slug": slug,
        "name": f"Bundled study {slug}",
        "description": "A study written by the tests.",
        "classes": VOC_CLASSES,
        "conditions": [_condition(directory, key) for key in conditions],
        "questions": [_question(directory, index, conditions) for index in range(n_questions)],
    }
    bundle_json_write(directory, data)
    return directory


def _condition(directory: Path, key: str) -> dict:
    _png(directory / "examples" / f"{key}.png", colour=(10, 10, 200))
    return {
        "key": key,
        "name": key.upper(),
        "intro": f"How to read {key}.",
        "examples": [f"examples/{key}.png"],
    }


def _question(directory: Path, index: int, conditions: tuple[str, ...]) -> dict:
    key = f"2008_{index:06d}"
    _png(directory / "images" / f"{key}.png", colour=(index * 40 % 256, 200, 30))
    explanations = {}
    for number, condition in enumerate(conditions):
        _png(
            directory / "explanations" / f"{key}_{condition}.png", colour=(200, number * 90, index * 7 % 256)
        )
        explanations[condition] = f"explanations/{key}_{condition}.png"
    options = ["tvmonitor", "cat", "sofa", "chair"]
    correct = index == 0
    return {
        "key": key,
        "image": f"images/{key}.png",
        "labels": ["tvmonitor"] if correct else ["cat"],
        "prediction": "tvmonitor",
        "model_correct": correct,
        "options": options,
        "explanations": explanations,
    }


def _png(path: Path, *, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(colour))


def bundle_json_read(directory: Path) -> dict:
    return json.loads((directory / "study.json").read_text(encoding="utf-8"))


def bundle_json_write(directory: Path, data: dict) -> None:
    (directory / "study.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def media_files() -> list[Path]:
    """Every file under MEDIA_ROOT (each test has its own, see conftest)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
