"""A small PASCAL VOC look-alike drawn procedurally, for tests and demos without the real dataset.

Each class is one shape in one colour (class 7, "cat", is always an orange plus sign, say), drawn
one to three times per image over a blurry noise background, so a classifier can learn the classes
from a few dozen images. Small objects are sometimes marked difficult, as in VOC.
"""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFilter

from explainers.nn.glyphs import SHAPES, class_colour, shape_draw
from explainers.nn.labels import VOC_CLASSES

Box = tuple[int, int, int, int]


def background(size: int, rng: random.Random) -> Image.Image:
    """Blurry, greyish noise: enough texture that the shapes are not the only thing in the picture."""
    grid = Image.new("RGB", (6, 6))
    greys = (rng.randint(80, 200) for _ in range(36))
    grid.putdata([tuple(grey + rng.randint(-15, 15) for _ in range(3)) for grey in greys])
    return grid.resize((size, size), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(size / 40))


def free_spot(size: int, r: float, taken: list[Box], rng: random.Random) -> tuple[float, float]:
    """A centre whose square does not overlap the boxes already drawn, if a few tries find one."""
    for _ in range(30):
        cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
        if all(cx + r < x0 or cx - r > x1 or cy + r < y0 or cy - r > y1 for x0, y0, x1, y1 in taken):
            break
    return cx, cy


def scene_draw(
    size: int, first_class: int, rng: random.Random
) -> tuple[Image.Image, list[tuple[str, Box, bool]]]:
    """One image and its objects (class, 1-based VOC box, difficult); ``first_class`` is always in it."""
    image = background(size, rng)
    draw = ImageDraw.Draw(image)
    others = rng.sample([c for c in range(len(VOC_CLASSES)) if c != first_class], rng.randint(0, 2))
    objects = []
    for slot, index in enumerate([first_class, *others]):
        difficult = slot > 0 and rng.random() < 0.2  # small and easy to miss, as VOC's difficult objects
        r = size * (rng.uniform(0.06, 0.08) if difficult else rng.uniform(0.11, 0.2))
        cx, cy = free_spot(size, r, [box for _, box, _ in objects], rng)
        shape_draw(draw, SHAPES[index], cx, cy, r, class_colour(index))
        box = (
            max(1, round(cx - r) + 1),
            max(1, round(cy - r) + 1),
            min(size, round(cx + r) + 1),
            min(size, round(cy + r) + 1),
        )
        objects.append((VOC_CLASSES[index], box, difficult))
    return image, objects


def annotation_xml(image_id: str, size: int, objects: list[tuple[str, Box, bool]]) -> str:
    parts = [
        f"<annotation><folder>SYNTHETIC</folder><filename>{escape(image_id)}.jpg</filename>",
        f"<size><width>{size}</width><height>{size}</height><depth>3</depth></size><segmented>0</segmented>",
    ]
    for name, (x0, y0, x1, y1), difficult in objects:
        parts.append(
            f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated>"
            f"<difficult>{int(difficult)}</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
            f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        )
    return "\n".join([*parts, "</annotation>\n"])


def class_list_line(image_id: str, name: str, objects: list[tuple[str, Box, bool]]) -> str:
    """VOC's per-class list: 1 present, 0 only difficult, -1 absent."""
    flags = [difficult for other, _, difficult in objects if other == name]
    return f"{image_id} {(-1 if not flags else 0 if all(flags) else 1):2d}"


def write_synthetic_voc(
    root: Path | str,
    *,
    n_train: int = 40,
    n_val: int = 12,
    n_test: int = 12,
    image_size: int = 128,
    seed: int = 0,
) -> Path:
    """Write a VOCdevkit-layout dataset (JPEGImages, Annotations, ImageSets/Main) under ``root``."""
    if min(n_train, n_val, n_test) < 0 or image_size < 32:
        raise ValueError(
            f"write_synthetic_voc needs non-negative counts and image_size >= 32, got {image_size}"
        )
    root = Path(root)
    for folder in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    splits = {"train": n_train, "val": n_val, "test": n_test}
    scenes: dict[str, list[tuple[str, list]]] = {split: [] for split in splits}
    number = 0
    for split, count in splits.items():
        for position in range(count):
            number += 1
            image_id = f"synth_{number:06d}"
            image, objects = scene_draw(image_size, position % len(VOC_CLASSES), rng)
            image.save(root / "JPEGImages" / f"{image_id}.jpg", quality=95)
            (root / "Annotations" / f"{image_id}.xml").write_text(
                annotation_xml(image_id, image_size, objects)
            )
            scenes[split].append((image_id, objects))
    scenes["trainval"] = scenes["train"] + scenes["val"]
    for split, items in scenes.items():
        main = root / "ImageSets" / "Main"
        (main / f"{split}.txt").write_text("".join(f"{image_id}\n" for image_id, _ in items))
        for name in VOC_CLASSES:
            lines = (class_list_line(image_id, name, objects) + "\n" for image_id, objects in items)
            (main / f"{name}_{split}.txt").write_text("".join(lines))
    return root
