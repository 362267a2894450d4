"""Write small, valid study bundles to disk (through the one writer), and look at what an import left."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from survey.services.bundle_spec import (
    BundleSpec,
    ConditionSpec,
    ExampleSpec,
    QuestionSpec,
)
from survey.services.bundle_spec import (
    bundle_json_write as spec_write,
)
from tests.factories import VOC_CLASSES, png_bytes


def bundle_write(
    directory: Path,
    *,
    slug: str = "bundled",
    n_questions: int = 3,
    conditions: tuple[str, ...] = ("gradcam", "pv"),
) -> Path:
    """A bundle with `n_questions` questions, the first model-correct and the rest model-wrong."""
    spec = BundleSpec(
        directory=directory,
        slug=slug,
        name=f"Bundled study {slug}",
        description="A study written by the tests.",
        classes=tuple(VOC_CLASSES),
        conditions=tuple(_condition(directory, key) for key in conditions),
        questions=tuple(_question(directory, index, conditions) for index in range(n_questions)),
    )
    return spec_write(spec=spec)


def _condition(directory: Path, key: str) -> ConditionSpec:
    example = _png(directory / "examples" / f"{key}.png", colour=(10, 10, 200))
    return ConditionSpec(
        key=key, name=key.upper(), intro=f"How to read {key}.", examples=(ExampleSpec(example),)
    )


def _question(directory: Path, index: int, conditions: tuple[str, ...]) -> QuestionSpec:
    key = f"2008_{index:06d}"
    explanations = {
        condition: _png(
            directory / "explanations" / f"{key}_{condition}.png", colour=(200, number * 90, index * 7 % 256)
        )
        for number, condition in enumerate(conditions)
    }
    correct = index == 0
    return QuestionSpec(
        key=key,
        image=_png(directory / "images" / f"{key}.png", colour=(index * 40 % 256, 200, 30)),
        labels=("tvmonitor",) if correct else ("cat",),
        prediction="tvmonitor",
        model_correct=correct,
        options=("tvmonitor", "cat", "sofa", "chair"),
        explanations=explanations,
    )


def _png(path: Path, *, colour: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(colour))
    return path


def bundle_json_read(directory: Path) -> dict:
    return json.loads((directory / "study.json").read_text(encoding="utf-8"))


def bundle_json_write(directory: Path, data: dict) -> None:
    (directory / "study.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def media_files() -> list[Path]:
    """Every file under MEDIA_ROOT (each test has its own, see conftest)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
