"""The demo study: real renders from small networks trained on synthetic pictures, or a drawn bundle.

By default `demo_bundle` has the explainers app train a classifier and a decoder on a synthetic VOC
look-alike (about a minute and a half on two CPU cores, the first time; the networks are kept in a work
folder) and render Grad-CAM and PV images like any study. `drawn=True` draws a placeholder bundle with
Pillow instead, in a second and without torch: its explanation images only imitate each method's style,
built from a hand-made attention blob: Grad-CAM shows the input through the blob, (1 - m) + m·x, and PV
a blurred, posterised "reconstruction" through it, (1 - m) + m·y.
"""

from __future__ import annotations

import colorsys
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from survey.models import Study
from survey.selectors.studies import study_by_slug
from survey.services.bundles import study_import_bundle
from survey.services.studies import study_open

DEMO_SLUG = "demo"
DEMO_RESEARCHER = ("researcher", "researcher")  # username, password: printed, so only for DEBUG setups
VOC_CLASSES = [
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor",
]  # fmt: skip
Log = Callable[[str], None]
N_CORRECT, N_WRONG = 16, 14  # the paper's split of questions where the model was right and wrong
SIZE = 224
WHITE = (255, 255, 255)

GRADCAM_INTRO = (
    "Each picture comes with a Grad-CAM explanation. Grad-CAM shows where the model looked: the part of "
    "the picture that is still visible is the region that mattered most for the model's decision, and the "
    "faded, white part mattered little. Use it to guess what the model predicted."
)
PV_INTRO = (
    "Each picture comes with a Perception Visualization (PV). PV shows what the model sees: the model's own "
    "reconstruction of the picture, rebuilt from what it has learned, shown only where it looked. The "
    "reconstruction may look blurry or strange; that is how the model perceives the picture. Use it to "
    "guess what the model predicted."
)
INTROS = {"gradcam": ("Grad-CAM", GRADCAM_INTRO), "pv": ("Perception Visualization", PV_INTRO)}


def demo_bundle(
    *,
    directory: Path,
    drawn: bool = False,
    budget: str = "quick",
    work_dir: Path | None = None,
    log: Log = print,
) -> Path:
    """Write the demo bundle into `directory`: rendered by trained networks, or drawn when `drawn`.

    The networks are trained for `budget` (explainers.demo.BUDGETS) on the first run only, and kept in
    `work_dir` (default var/demo-work).
    """
    if drawn:
        return demo_bundle_write(directory=directory)
    from explainers.demo import demo_bundle_render

    work_dir = work_dir or Path(settings.BASE_DIR) / "var" / "demo-work"
    return demo_bundle_render(directory=directory, work_dir=work_dir, budget=budget, slug=DEMO_SLUG, log=log)


def demo_bundle_write(*, directory: Path, seed: int = 0) -> Path:
    """Draw the demo bundle into `directory`: 30 questions (16 model-correct, 14 wrong), two conditions."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    correct = [True] * N_CORRECT + [False] * N_WRONG
    rng.shuffle(correct)
    data = {
        "slug": DEMO_SLUG,
        "name": "Demo: PV vs Grad-CAM",
        "description": "Drawn pictures: guess what the model predicted from its explanation.",
        "classes": VOC_CLASSES,
        "completion_code": "DEMOCODE",
        "conditions": [_condition_write(directory, key, rng) for key in INTROS],
        "questions": [_question_write(directory, n, ok, rng) for n, ok in enumerate(correct, 1)],
    }
    (directory / "study.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return directory


def _question_write(directory: Path, number: int, model_correct: bool, rng: random.Random) -> dict:
    key = f"demo_{number:02d}"
    label, other, *rest = rng.sample(VOC_CLASSES, 5)
    prediction = label if model_correct else other
    options = [label, other, *rest[:2]]
    rng.shuffle(options)
    image, mask = _scene(label=label, prediction=prediction, rng=rng)
    explanations = {}
    for condition, picture in _explanations(image, mask).items():
        explanations[condition] = _save(picture, directory / "explanations" / f"{key}_{condition}.png")
    return {
        "key": key,
        "image": _save(image, directory / "images" / f"{key}.png"),
        "labels": [label],
        "prediction": prediction,
        "model_correct": model_correct,
        "options": options,
        "explanations": explanations,
    }


def _condition_write(directory: Path, key: str, rng: random.Random) -> dict:
    name, intro = INTROS[key]
    examples = []
    for number in (1, 2):
        label = rng.choice(VOC_CLASSES)
        image, mask = _scene(label=label, prediction=label, rng=rng)
        pair = Image.new("RGB", (2 * SIZE + 8, SIZE), WHITE)
        pair.paste(image, (0, 0))
        pair.paste(_explanations(image, mask)[key], (SIZE + 8, 0))
        path = _save(pair, directory / "examples" / f"{key}_{number}.png")
        caption = f"Left, the picture; right, its {name} explanation. The model predicted “{label}”."
        examples.append({"image": path, "caption": caption})
    return {"key": key, "name": name, "intro": intro, "examples": examples}


def _scene(*, label: str, prediction: str, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """A picture of `label`, plus the predicted object when the model is wrong; and where the model looked."""
    sky, ground = _colour(rng.random(), 0.25, 0.95), _colour(rng.random(), 0.35, 0.6)
    image = Image.new("RGB", (SIZE, SIZE), sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(SIZE * 0.65), SIZE, SIZE), fill=ground)
    spots = [(rng.randint(50, 90), rng.randint(70, 150)), (rng.randint(134, 174), rng.randint(70, 150))]
    rng.shuffle(spots)
    _draw_object(draw, label, spots[0], radius=rng.randint(32, 44))
    if prediction != label:
        _draw_object(draw, prediction, spots[1], radius=rng.randint(24, 34))
    focus = spots[0] if prediction == label else spots[1]
    return image, _attention(focus, rng)


def _draw_object(draw: ImageDraw.ImageDraw, name: str, centre: tuple[int, int], *, radius: int) -> None:
    # Each class is one shape in one colour, so a careful look at the explanation can tell them apart.
    index = VOC_CLASSES.index(name)
    fill = _colour(index / len(VOC_CLASSES), 0.85, 0.9 if index % 2 else 0.6)
    sides = 3 + index % 5
    if sides == 7:
        draw.ellipse(
            (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius), fill=fill
        )
    else:
        draw.regular_polygon((*centre, radius), sides, rotation=index * 9, fill=fill, outline=(30, 30, 30))
    draw.ellipse(
        (centre[0] - 6, centre[1] - 6, centre[0] + 6, centre[1] + 6), fill=_colour(index / 7 % 1, 0.5, 1)
    )


def _attention(focus: tuple[int, int], rng: random.Random) -> Image.Image:
    """A soft blob around the focus, with a fainter one elsewhere, like a Grad-CAM heat map."""
    mask = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(mask)
    x, y = focus[0] + rng.randint(-8, 8), focus[1] + rng.randint(-8, 8)
    radius = rng.randint(40, 56)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    x2, y2 = rng.randint(20, SIZE - 20), rng.randint(20, SIZE - 20)
    draw.ellipse((x2 - 20, y2 - 20, x2 + 20, y2 + 20), fill=90)
    return mask.filter(ImageFilter.GaussianBlur(18))


def _explanations(image: Image.Image, mask: Image.Image) -> dict[str, Image.Image]:
    white = Image.new("RGB", image.size, WHITE)
    reconstruction = ImageOps.posterize(image.filter(ImageFilter.GaussianBlur(5)), 3)
    return {
        "gradcam": Image.composite(image, white, mask),  # (1 - m) + m·x
        "pv": Image.composite(reconstruction, white, mask),  # (1 - m) + m·y
    }


def _colour(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _save(image: Image.Image, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return f"{path.parent.name}/{path.name}"


# Setting the demo up


def demo_study_ensure(
    *, drawn: bool = False, budget: str = "quick", work_dir: Path | None = None, log: Log = print
) -> tuple[Study, bool]:
    """The open demo study, imported from `demo_bundle` the first time; True when it was just created."""
    study = study_by_slug(slug=DEMO_SLUG)
    if study is None:
        with tempfile.TemporaryDirectory(prefix="demo-bundle-") as scratch:
            bundle = demo_bundle(
                directory=Path(scratch), drawn=drawn, budget=budget, work_dir=work_dir, log=log
            )
            return study_import_bundle(directory=bundle, open_study=True), True
    if not study.is_open:
        study_open(study=study)
    return study, False


@transaction.atomic
def demo_researcher_ensure() -> tuple[AbstractBaseUser | None, bool]:
    """A superuser with the published demo password, made only when DEBUG is on; True when just created."""
    username, password = DEMO_RESEARCHER
    user = get_user_model().objects.filter(username=username).first()
    if user is not None or not settings.DEBUG:
        return user, False
    return get_user_model().objects.create_superuser(username=username, email="", password=password), True
