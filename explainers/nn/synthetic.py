"""A small PASCAL VOC look-alike drawn procedurally, for tests and demos without the real dataset.

Each image is a landscape or a room (a horizon, gradients, noise) with one to three objects drawn
from the classes' emoji (see glyphs.py), at varied sizes and positions, flipped, turned a little and
recoloured, later objects hiding parts of earlier ones. Image i always shows class i % 20, large and
mostly visible. Objects that are small or mostly hidden are marked difficult, as in VOC.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image

from explainers.nn.glyphs import SHAPES, Glyphs, class_colour, glyphs_load
from explainers.nn.labels import VOC_CLASSES

__all__ = [  # SHAPES and class_colour stay importable from here, as before glyphs.py
    "SHAPES",
    "Scene",
    "SceneObject",
    "class_colour",
    "image_rng",
    "scene_draw",
    "write_synthetic_voc",
]

logger = logging.getLogger(__name__)
Box = tuple[int, int, int, int]
DIFFICULT_VISIBLE = 0.35  # less of the object shows than this: mostly hidden behind later objects
DIFFICULT_SIDE = 0.12  # the longer side of its box is shorter than this share of the image: a speck
FIRST_VISIBLE = 0.6  # image i always shows class i % 20 plainly: later objects hide at most 40% of it
LEAST_VISIBLE = 0.15  # later objects leave at least this much of every earlier one
FLYING = {"aeroplane", "bird"}  # anywhere in the picture; everything else stands below the horizon
# Classes a real classifier confuses. A partner from the same group joins the scene half the time, and
# every object's colours are washed out or darkened at random: the emoji's own palette (a brown horse,
# a white sheep) would otherwise name the class by colour alone, so the model has to tell the shapes
# apart and, trained briefly, mixes up the look-alikes rather than failing at random.
CONFUSABLE = (("cow", "sheep", "horse"), ("bus", "train", "car"), ("chair", "sofa"), ("cat", "dog"))
# (upper, lower) colours of the background: sky and ground, or wall and floor.
SETTINGS = (
    ((135, 190, 235), (110, 160, 80)),  # blue sky, grass
    ((200, 210, 220), (120, 120, 125)),  # overcast, asphalt
    ((245, 200, 150), (190, 170, 120)),  # evening sky, sand
    ((150, 200, 230), (70, 120, 160)),  # sky, water
    ((230, 220, 200), (150, 110, 70)),  # cream wall, wooden floor
    ((190, 205, 215), (170, 170, 165)),  # blue-grey wall, tiles
    ((200, 170, 140), (120, 60, 50)),  # warm wall, carpet
)


@dataclass(frozen=True)
class SceneObject:
    name: str  # VOC class
    box: Box  # VOC's 1-based, inclusive (xmin, ymin, xmax, ymax) around the pixels that show
    visible: float  # share of its pixels that no later object covers
    difficult: bool


@dataclass(frozen=True)
class Scene:
    image: Image.Image  # RGB
    objects: list[SceneObject]
    owners: np.ndarray  # (S, S) index into objects of what each pixel shows, -1 for the background


@dataclass(frozen=True)
class Placed:
    name: str
    first: bool  # the class the image is about, which later objects leave mostly visible
    area: int  # pixels it owned when drawn, before later objects covered any


def scene_draw(size: int, first_class: int, rng: random.Random, glyphs: Glyphs) -> Scene:
    """One image and its objects; ``VOC_CLASSES[first_class]`` is the first, large and mostly visible."""
    names = scene_classes(VOC_CLASSES[first_class], rng)  # first: the same classes whatever the glyphs
    canvas = background(size, rng)
    owners = np.full((size, size), -1, dtype=np.int8)
    placed: list[Placed] = []
    for name in rng.sample(names, len(names)):  # in any order: the large first object may hide the others
        first = name == names[0]
        pixels = object_pose(glyphs.images[VOC_CLASSES.index(name)], object_side(size, first, rng), rng)
        corner = object_spot(size, name, pixels, owners, placed, rng, first=first)
        if corner is not None:
            placed.append(object_paste(canvas, owners, pixels, corner, len(placed), Placed(name, first, 0)))
    shown = [index for index in range(len(placed)) if np.any(owners == index)]  # the first hides any wholly
    objects = [scene_object(size, owners == index, placed[index]) for index in shown]
    renumber = np.full(len(placed) + 1, -1, dtype=np.int8)  # the last entry keeps the background at -1
    renumber[shown] = np.arange(len(shown))
    return Scene(Image.fromarray(canvas.round().astype(np.uint8)), objects, renumber[owners])


def scene_classes(first: str, rng: random.Random) -> list[str]:
    """``first`` and up to two others, often from its own group of look-alikes (see CONFUSABLE)."""
    chosen = [first]
    for _ in range(rng.randint(0, 2)):
        group = next((group for group in CONFUSABLE if first in group), ())
        partners = [name for name in group if name not in chosen]
        strangers = [name for name in VOC_CLASSES if name not in chosen]
        chosen.append(rng.choice(partners if partners and rng.random() < 0.5 else strangers))
    return chosen


def object_side(size: int, first: bool, rng: random.Random) -> int:
    """The longer side of an object in pixels: the first one large; others medium or, a quarter, far away."""
    if first:
        share = rng.uniform(0.35, 0.7)
    else:
        share = rng.uniform(0.07, 0.13) if rng.random() < 0.25 else rng.uniform(0.2, 0.55)
    return max(4, round(share * size))


def object_pose(glyph: Image.Image, side: int, rng: random.Random) -> np.ndarray:
    """The glyph at ``side`` px, flipped half the time, turned up to 15 degrees and recoloured: (h, w, 4)."""
    scale = side / max(glyph.size)
    width, height = (max(2, round(scale * length)) for length in glyph.size)
    image = glyph.resize((width, height), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.rotate(rng.uniform(-15, 15), Image.Resampling.BICUBIC, expand=True)
    image = image.crop(image.getchannel("A").getbbox() or (0, 0, *image.size))
    pixels = np.asarray(image, dtype=np.float32).copy()
    grey = pixels[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # (h, w)
    saturation, brightness = rng.uniform(0.25, 1.15), rng.uniform(0.7, 1.15)
    colour = grey[..., None] + saturation * (pixels[..., :3] - grey[..., None])  # (h, w, 3)
    pixels[..., :3] = np.clip(colour * brightness, 0, 255)
    return pixels


def object_spot(
    size: int,
    name: str,
    pixels: np.ndarray,
    owners: np.ndarray,
    placed: list[Placed],
    rng: random.Random,
    *,
    first: bool,
) -> tuple[int, int] | None:
    """A top-left corner that leaves the earlier objects visible enough, or None after 20 tries.

    The first object always finds one: it goes where the last try put it, whatever it hides.
    """
    height, width = pixels.shape[:2]
    solid = pixels[..., 3] >= 128
    low = 0 if name in FLYING else max(0, round(size * 0.6) - height)  # stands below any horizon
    for _ in range(20):
        x, y = rng.randint(0, size - width), rng.randint(low, size - height)
        hidden = owners[y : y + height, x : x + width][solid]
        if all(
            (np.count_nonzero(owners == index) - np.count_nonzero(hidden == index)) / item.area
            >= (FIRST_VISIBLE if item.first else LEAST_VISIBLE)
            for index, item in enumerate(placed)
        ):
            return x, y
    return (x, y) if first else None


def object_paste(
    canvas: np.ndarray,
    owners: np.ndarray,
    pixels: np.ndarray,
    corner: tuple[int, int],
    index: int,
    item: Placed,
) -> Placed:
    """Draw ``pixels`` over the canvas at ``corner``: ``item`` with the area it covers."""
    x, y = corner
    height, width = pixels.shape[:2]
    alpha = pixels[..., 3:] / 255  # (h, w, 1)
    region = canvas[y : y + height, x : x + width]
    region[...] = region * (1 - alpha) + pixels[..., :3] * alpha
    solid = alpha[..., 0] >= 0.5
    owners[y : y + height, x : x + width][solid] = index
    return replace(item, area=int(np.count_nonzero(solid)))


def scene_object(size: int, shows: np.ndarray, item: Placed) -> SceneObject:
    """The annotation of a drawn object from the (S, S) mask of where it shows: its box and difficulty."""
    rows, columns = np.nonzero(shows)
    box = (int(columns.min()) + 1, int(rows.min()) + 1, int(columns.max()) + 1, int(rows.max()) + 1)
    visible = len(rows) / item.area
    side = max(box[2] - box[0], box[3] - box[1]) + 1
    difficult = visible < DIFFICULT_VISIBLE or side < DIFFICULT_SIDE * size
    return SceneObject(item.name, box, round(visible, 3), difficult)


def background(size: int, rng: random.Random) -> np.ndarray:
    """A sky over ground (or a wall over a floor): shaded towards the horizon, mottled and grainy."""
    noise = np.random.default_rng(rng.getrandbits(64))
    upper, lower = (np.array(colour) + noise.uniform(-20, 20, 3) for colour in rng.choice(SETTINGS))
    horizon = rng.uniform(0.3, 0.6)
    depth = np.linspace(0, 1, size)[:, None]  # (S, 1) from top to bottom
    sky = upper * (0.85 + 0.25 * depth / horizon)  # (S, 3), lighter towards the horizon
    ground = lower * (1.15 - 0.4 * (depth - horizon) / (1 - horizon))  # darker close by
    rows = np.where(depth < horizon, sky, ground).astype(np.float32)  # (S, 3)
    grain = (
        noise.standard_normal((size, size, 1), dtype=np.float32) * np.where(depth < horizon, 4, 8)[:, None]
    )
    return np.clip(rows[:, None, :] + mottle(size, noise) + grain, 0, 255)  # (S, S, 3)


def mottle(size: int, noise: np.random.Generator) -> np.ndarray:
    """Soft patches of light and shade, barely tinted: a coarse random grid, smoothly enlarged: (S, S, 3)."""
    grid = noise.normal(0, 12, (8, 8, 1)) + noise.normal(0, 4, (8, 8, 3))  # shade shared by R, G and B
    smooth = Image.fromarray((grid + 128).clip(0, 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BICUBIC
    )
    return np.asarray(smooth, dtype=np.float32) - 128


def image_rng(seed: int, number: int) -> random.Random:
    """The randomness of image ``number`` (from 1): its own, so that no image shifts the next."""
    return random.Random(f"synthetic VOC {seed} {number}")


def annotation_xml(image_id: str, size: int, objects: list[SceneObject]) -> str:
    parts = [
        f"<annotation><folder>SYNTHETIC</folder><filename>{escape(image_id)}.jpg</filename>",
        f"<size><width>{size}</width><height>{size}</height><depth>3</depth></size><segmented>0</segmented>",
    ]
    for item in objects:
        x0, y0, x1, y1 = item.box
        parts.append(
            f"<object><name>{item.name}</name><pose>Unspecified</pose><truncated>0</truncated>"
            f"<difficult>{int(item.difficult)}</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
            f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        )
    return "\n".join([*parts, "</annotation>\n"])


def class_list_line(image_id: str, name: str, objects: list[SceneObject]) -> str:
    """VOC's per-class list: 1 present, 0 only difficult, -1 absent."""
    flags = [item.difficult for item in objects if item.name == name]
    return f"{image_id} {(-1 if not flags else 0 if all(flags) else 1):2d}"


def write_synthetic_voc(
    root: Path | str,
    *,
    n_train: int = 40,
    n_val: int = 12,
    n_test: int = 12,
    image_size: int = 128,
    seed: int = 0,
    glyphs: Glyphs | None = None,
    on_image: Callable[[], None] | None = None,
) -> Path:
    """Write a VOCdevkit-layout dataset (JPEGImages, Annotations, ImageSets/Main) under ``root``.

    ``glyphs`` defaults to ``glyphs_load()``, which logs a warning when it falls back to shapes.
    ``on_image`` is called after each image is written, e.g. to move a progress bar.
    """
    if min(n_train, n_val, n_test) < 0 or image_size < 32:
        raise ValueError(
            f"write_synthetic_voc needs non-negative counts and image_size >= 32, got {image_size}"
        )
    if glyphs is None:
        glyphs = glyphs_load()
        if glyphs.note:
            logger.warning(glyphs.note)
    root = Path(root)
    for folder in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    splits = {"train": n_train, "val": n_val, "test": n_test}
    scenes: dict[str, list[tuple[str, list[SceneObject]]]] = {split: [] for split in splits}
    number = 0
    for split, count in splits.items():
        for position in range(count):
            number += 1
            image_id = f"synth_{number:06d}"
            scene = scene_draw(image_size, position % len(VOC_CLASSES), image_rng(seed, number), glyphs)
            scene.image.save(root / "JPEGImages" / f"{image_id}.jpg", quality=95)
            (root / "Annotations" / f"{image_id}.xml").write_text(
                annotation_xml(image_id, image_size, scene.objects)
            )
            scenes[split].append((image_id, scene.objects))
            if on_image is not None:
                on_image()
    scenes["trainval"] = scenes["train"] + scenes["val"]
    for split, items in scenes.items():
        main = root / "ImageSets" / "Main"
        (main / f"{split}.txt").write_text("".join(f"{image_id}\n" for image_id, _ in items))
        for name in VOC_CLASSES:
            lines = (class_list_line(image_id, name, objects) + "\n" for image_id, objects in items)
            (main / f"{name}_{split}.txt").write_text("".join(lines))
    return root
