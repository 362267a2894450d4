"""The pictures synthetic VOC draws its objects from: one colour emoji per class, or shapes without the font.

The emoji come from Noto Color Emoji (Debian's fonts-noto-color-emoji, ``make fonts``). Where that font
is missing, each class falls back to a coloured shape (class 7, "cat", is always an orange plus sign),
and ``Glyphs.note`` says so. Each glyph is rendered once per process; scenes only resize and turn it.
"""

from __future__ import annotations

import colorsys
import math
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from explainers.nn.labels import VOC_CLASSES

VOC_EMOJI: dict[str, str] = {
    "aeroplane": "\u2708\ufe0f",  # ✈️
    "bicycle": "\U0001f6b2",  # 🚲
    "bird": "\U0001f426",  # 🐦
    "boat": "\u26f5",  # ⛵
    "bottle": "\U0001f37e",  # 🍾
    "bus": "\U0001f68c",  # 🚌
    "car": "\U0001f697",  # 🚗
    "cat": "\U0001f408",  # 🐈 the whole animal, as VOC shows it, rather than the face
    "chair": "\U0001fa91",  # 🪑
    "cow": "\U0001f404",  # 🐄
    "diningtable": "\U0001f37d\ufe0f",  # 🍽️ a table setting: plate, fork and knife
    "dog": "\U0001f415",  # 🐕
    "horse": "\U0001f40e",  # 🐎
    "motorbike": "\U0001f3cd\ufe0f",  # 🏍️
    "person": "\U0001f9cd",  # 🧍 standing, the whole body
    "pottedplant": "\U0001fab4",  # 🪴
    "sheep": "\U0001f411",  # 🐑
    "sofa": "\U0001f6cb\ufe0f",  # 🛋️
    "train": "\U0001f686",  # 🚆
    "tvmonitor": "\U0001f4fa",  # 📺
}
EMOJI_FAMILY = "Noto Color Emoji"
EMOJI_FONT_SIZE = 109  # a bitmap font with one strike: FreeType loads it at this size only
EMOJI_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),  # Debian, Ubuntu
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),  # Arch, Alpine
    Path("/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf"),  # Fedora
)
FONT_MISSING = (
    f"{EMOJI_FAMILY} is not installed (apt-get install fonts-noto-color-emoji, or make fonts): "
    "the synthetic images show each class as a coloured shape instead of its emoji"
)
SHAPES = (
    "disk", "square", "triangle", "diamond", "pentagon", "hexagon", "star5", "plus", "ring", "hbar",
    "vbar", "triangle_down", "frame", "cross", "half_disk", "pacman", "star4", "octagon", "tee", "ell",
)  # fmt: skip
CANVAS = 136  # the emoji font draws into about 136 x 128 px at its one size; shapes use the same square


@dataclass(frozen=True)
class Glyphs:
    kind: str  # "emoji", or "shapes" where the emoji font is missing
    images: tuple[Image.Image, ...]  # RGBA, one per VOC class in VOC_CLASSES order, cropped to its pixels
    note: str = ""  # why the shapes are drawn instead of the emoji; empty for the emoji


def glyphs_load() -> Glyphs:
    """The emoji where the font is installed, else the shapes with a note that says why."""
    path = emoji_font_path()
    return emoji_glyphs(path) if path is not None else shape_glyphs()


def emoji_font_path() -> Path | None:
    return next((path for path in font_candidates() if emoji_font(path) is not None), None)


def font_candidates() -> Iterator[Path]:
    yield from EMOJI_FONT_PATHS
    if shutil.which("fc-match") is None:
        return
    found = subprocess.run(
        ["fc-match", "-f", "%{file}", EMOJI_FAMILY], capture_output=True, text=True, timeout=30, check=False
    )
    if found.returncode == 0 and found.stdout.strip():
        yield Path(found.stdout.strip())


@cache
def emoji_font(path: Path) -> ImageFont.FreeTypeFont | None:
    """The font at ``path`` if it is the emoji font; fc-match answers its nearest font, whatever it is."""
    try:
        font = ImageFont.truetype(str(path), EMOJI_FONT_SIZE)
    except OSError:
        return None
    return font if font.getname()[0] == EMOJI_FAMILY else None


@cache
def emoji_glyphs(path: Path) -> Glyphs:
    font = emoji_font(path)
    if font is None:
        raise ValueError(f"{path}: not the {EMOJI_FAMILY} font")
    return Glyphs("emoji", tuple(emoji_render(font, VOC_EMOJI[name]) for name in VOC_CLASSES))


def emoji_render(font: ImageFont.FreeTypeFont, emoji: str) -> Image.Image:
    canvas = Image.new("RGBA", (CANVAS + 24, CANVAS + 24), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), emoji, font=font, embedded_color=True)
    return cropped(canvas, emoji)


@cache
def shape_glyphs() -> Glyphs:
    images = []
    for index, shape in enumerate(SHAPES):
        canvas = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
        half = CANVAS / 2
        shape_draw(ImageDraw.Draw(canvas), shape, half, half, half - 4, (*class_colour(index), 255))
        images.append(cropped(canvas, shape))
    return Glyphs("shapes", tuple(images), FONT_MISSING)


def cropped(canvas: Image.Image, what: str) -> Image.Image:
    box = canvas.getchannel("A").getbbox()
    if box is None:
        raise ValueError(f"the glyph for {what!r} drew nothing")
    return canvas.crop(box)


def class_colour(index: int) -> tuple[int, int, int]:
    """Twenty saturated colours: hues spread over the wheel, bright and darker in turn."""
    red, green, blue = colorsys.hsv_to_rgb((index * 7 % 20) / 20, 1.0, 1.0 if index % 2 == 0 else 0.6)
    return round(red * 255), round(green * 255), round(blue * 255)


def regular_polygon(
    cx: float, cy: float, r: float, sides: int, turn: float = -90
) -> list[tuple[float, float]]:
    angles = (math.radians(turn + 360 * k / sides) for k in range(sides))
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles]


def star(cx: float, cy: float, r: float, points: int) -> list[tuple[float, float]]:
    outer, inner = (
        regular_polygon(cx, cy, r, points),
        regular_polygon(cx, cy, r * 0.45, points, -90 + 180 / points),
    )
    return [corner for pair in zip(outer, inner, strict=True) for corner in pair]


def shape_draw(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, colour: tuple) -> None:
    """Draw one of SHAPES inside the square of half-side ``r`` around (cx, cy)."""
    box, thin = (cx - r, cy - r, cx + r, cy + r), r * 0.35
    polygons = {
        "triangle": regular_polygon(cx, cy, r, 3),
        "triangle_down": regular_polygon(cx, cy, r, 3, 90),
        "diamond": regular_polygon(cx, cy, r, 4),
        "pentagon": regular_polygon(cx, cy, r, 5),
        "hexagon": regular_polygon(cx, cy, r, 6),
        "octagon": regular_polygon(cx, cy, r, 8, 22.5),
        "star5": star(cx, cy, r, 5),
        "star4": star(cx, cy, r, 4),
    }
    rectangles = {
        "square": [box],
        "hbar": [(cx - r, cy - thin, cx + r, cy + thin)],
        "vbar": [(cx - thin, cy - r, cx + thin, cy + r)],
        "plus": [
            (cx - r, cy - thin / 2, cx + r, cy + thin / 2),
            (cx - thin / 2, cy - r, cx + thin / 2, cy + r),
        ],
        "tee": [(cx - r, cy - r, cx + r, cy - r + thin), (cx - thin / 2, cy - r, cx + thin / 2, cy + r)],
        "ell": [(cx - r, cy - r, cx - r + thin, cy + r), (cx - r, cy + r - thin, cx + r, cy + r)],
    }
    if shape in polygons:
        draw.polygon(polygons[shape], fill=colour)
    elif shape in rectangles:
        for rectangle in rectangles[shape]:
            draw.rectangle(rectangle, fill=colour)
    elif shape == "disk":
        draw.ellipse(box, fill=colour)
    elif shape == "ring":
        draw.ellipse(box, outline=colour, width=max(2, round(thin)))
    elif shape == "frame":
        draw.rectangle(box, outline=colour, width=max(2, round(thin)))
    elif shape == "cross":
        draw.line((cx - r, cy - r, cx + r, cy + r), fill=colour, width=max(2, round(thin)))
        draw.line((cx - r, cy + r, cx + r, cy - r), fill=colour, width=max(2, round(thin)))
    elif shape == "half_disk":
        draw.pieslice(box, 180, 360, fill=colour)
    elif shape == "pacman":
        draw.pieslice(box, 40, 320, fill=colour)
    else:
        raise ValueError(f"unknown synthetic shape {shape!r}")
