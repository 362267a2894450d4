"""A drawn placeholder of the demo bundle: Pillow only, in a second, with no torch and no training.

Its pictures show the classes' emoji (coloured shapes without the emoji font), as the trained demo's do.
Its explanation images only imitate each method's style, built from a hand-made attention blob: Grad-CAM
shows the input through the blob, (1 - m) + m·x, and PV a blurred, posterised "reconstruction" through
it, (1 - m) + m·y. Names and introductions come from the methods' definitions, and the questions follow
the paper's rule: the model is right when it names exactly the object drawn, wrong when it names another.
"""

from __future__ import annotations

import colorsys
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from explainers.methods import DEFAULT_METHODS, method_get
from explainers.nn.glyphs import glyphs_load
from explainers.nn.labels import VOC_CLASSES, VOC_DISPLAY_NAMES
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

DEMO_SLUG = "demo"
N_CORRECT, N_WRONG = 16, 14  # the paper's split of questions where the model was right and wrong
SIZE = 224
WHITE = (255, 255, 255)


def demo_bundle_write(*, directory: Path, seed: int = 0) -> Path:
    """Draw the demo bundle into `directory`: 30 questions (16 model-correct, 14 wrong), two conditions,
    each with its method's comprehension questions, two practice questions and two attention checks."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    correct = [True] * N_CORRECT + [False] * N_WRONG
    rng.shuffle(correct)
    spec = BundleSpec(
        directory=directory,
        slug=DEMO_SLUG,
        name="Demo: PV vs Grad-CAM",
        description="Drawn pictures: guess what the model predicted from its explanation.",
        classes=VOC_CLASSES,
        class_names=VOC_DISPLAY_NAMES,
        completion_code="DEMOCODE",
        expected_minutes=8,
        conditions=tuple(_condition_spec(directory, key, rng) for key in DEFAULT_METHODS),
        questions=tuple(_question_spec(directory, n, ok, rng) for n, ok in enumerate(correct, 1)),
        # Drawn after the questions, so the questions are the same as before practice came along.
        practice=(
            _question_spec(directory, 1, True, rng, kind="practice"),
            _question_spec(directory, 2, False, rng, kind="practice"),
        ),
        attention=_attention_specs(directory, rng),
    )
    return bundle_json_write(spec=spec)


def _attention_specs(directory: Path, rng: random.Random) -> tuple[AttentionSpec, ...]:
    """An instructed response a third of the way in, and an unmistakable picture two thirds in."""
    instructed = _question_spec(directory, 1, True, rng, kind="attention")
    label = rng.choice(VOC_CLASSES)
    image, mask = _scene(label=label, prediction=label, rng=rng, radius=70)
    key = "demo_attention_02"
    explanations = {
        condition: _save(picture, directory / "explanations" / f"{key}_{condition}.png")
        for condition, picture in _explanations(image, mask).items()
    }
    others = rng.sample([name for name in VOC_CLASSES if name != label], 3)
    return (
        AttentionSpec(
            key=instructed.key,
            kind="instructed",
            image=instructed.image,
            options=instructed.options,
            answer=CANT_TELL,
            explanations=instructed.explanations,
            position=N_CORRECT // 2 + 2,
        ),
        AttentionSpec(
            key=key,
            kind="image",
            image=_save(image, directory / "images" / f"{key}.png"),
            options=tuple(rng.sample([label, *others], 4)),
            answer=label,
            explanations=explanations,
            position=(2 * (N_CORRECT + N_WRONG)) // 3,
            labels=(label,),
            prediction=label,
        ),
    )


def _question_spec(
    directory: Path, number: int, model_correct: bool, rng: random.Random, *, kind: str = "demo"
) -> QuestionSpec:
    key = f"demo_{number:02d}" if kind == "demo" else f"demo_{kind}_{number:02d}"
    label, other, *rest = rng.sample(VOC_CLASSES, 5)
    prediction = label if model_correct else other  # names exactly what is drawn, or something absent
    options = [label, other, *rest[:2]]
    rng.shuffle(options)
    image, mask = _scene(label=label, prediction=prediction, rng=rng)
    explanations = {
        condition: _save(picture, directory / "explanations" / f"{key}_{condition}.png")
        for condition, picture in _explanations(image, mask).items()
    }
    return QuestionSpec(
        key=key,
        image=_save(image, directory / "images" / f"{key}.png"),
        labels=(label,),
        prediction=prediction,
        model_correct=model_correct,
        options=tuple(options),
        explanations=explanations,
        prediction_set=(prediction,),
    )


def _condition_spec(directory: Path, key: str, rng: random.Random) -> ConditionSpec:
    method = method_get(key)
    examples = []
    for number in (1, 2):
        label = rng.choice(VOC_CLASSES)
        image, mask = _scene(label=label, prediction=label, rng=rng)
        pair = Image.new("RGB", (2 * SIZE + 8, SIZE), WHITE)
        pair.paste(image, (0, 0))
        pair.paste(_explanations(image, mask)[key], (SIZE + 8, 0))
        path = _save(pair, directory / "examples" / f"{key}_{number}.png")
        caption = f"Left, the picture; right, its {method.name} explanation. The model predicted “{label}”."
        examples.append(ExampleSpec(image=path, caption=caption))
    comprehension = tuple(ComprehensionSpec(c.prompt, c.choices, c.answer) for c in method.comprehension)
    return ConditionSpec(
        key=key,
        name=method.name,
        intro=method.introduction,
        examples=tuple(examples),
        comprehension=comprehension,
    )


def _scene(
    *, label: str, prediction: str, rng: random.Random, radius: int | None = None
) -> tuple[Image.Image, Image.Image]:
    """A picture of `label`, plus the predicted object when the model is wrong; and where the model looked.

    A given `radius` draws the one object that large, in the middle: a picture nobody can mistake.
    """
    sky, ground = _colour(rng.random(), 0.25, 0.95), _colour(rng.random(), 0.35, 0.6)
    image = Image.new("RGB", (SIZE, SIZE), sky)
    ImageDraw.Draw(image).rectangle((0, int(SIZE * 0.65), SIZE, SIZE), fill=ground)
    spots = [(rng.randint(50, 90), rng.randint(70, 150)), (rng.randint(134, 174), rng.randint(70, 150))]
    rng.shuffle(spots)
    if radius is not None:
        spots[0] = (SIZE // 2, SIZE // 2)
    _paste_object(image, label, spots[0], radius=radius or rng.randint(36, 48))
    if prediction != label:
        _paste_object(image, prediction, spots[1], radius=rng.randint(26, 36))
    focus = spots[0] if prediction == label else spots[1]
    return image, _attention(focus, rng)


def _paste_object(image: Image.Image, name: str, centre: tuple[int, int], *, radius: int) -> None:
    """The class's glyph, its longer side 2 * ``radius``, centred on ``centre``."""
    glyph = glyphs_load().images[VOC_CLASSES.index(name)]
    scale = 2 * radius / max(glyph.size)
    glyph = glyph.resize((round(glyph.width * scale), round(glyph.height * scale)), Image.Resampling.LANCZOS)
    image.paste(glyph, (centre[0] - glyph.width // 2, centre[1] - glyph.height // 2), glyph)


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


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path
