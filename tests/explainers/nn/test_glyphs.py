from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explainers.nn import glyphs
from explainers.nn.labels import VOC_CLASSES

needs_the_font = pytest.mark.skipif(
    glyphs.emoji_font_path() is None, reason="Noto Color Emoji is not installed (make fonts)"
)


def test_every_voc_class_has_one_emoji() -> None:
    assert list(glyphs.VOC_EMOJI) == list(VOC_CLASSES)
    assert len(set(glyphs.VOC_EMOJI.values())) == 20
    assert glyphs.VOC_EMOJI["pottedplant"] == "\U0001fab4" and glyphs.VOC_EMOJI["sofa"] == "\U0001f6cb\ufe0f"


@needs_the_font
def test_the_emoji_are_drawn_in_colour_when_the_font_is_installed() -> None:
    loaded = glyphs.glyphs_load()

    assert loaded.kind == "emoji" and loaded.note == ""
    for name, image in zip(VOC_CLASSES, loaded.images, strict=True):
        pixels = np.asarray(image)
        opaque = pixels[pixels[..., 3] == 255][:, :3]
        assert len(np.unique(opaque, axis=0)) > 15, name  # a shape has one colour
        assert 60 <= max(image.size) <= 136, name


def test_without_the_font_each_class_is_its_shape_and_a_note_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(glyphs, "emoji_font_path", lambda: None)

    loaded = glyphs.glyphs_load()

    assert loaded.kind == "shapes" and loaded.note == glyphs.FONT_MISSING
    assert "Noto Color Emoji is not installed" in loaded.note and "coloured shape" in loaded.note
    cat = np.asarray(loaded.images[VOC_CLASSES.index("cat")])
    assert {tuple(pixel[:3]) for pixel in cat[cat[..., 3] == 255]} == {glyphs.class_colour(7)}


def test_a_font_that_is_not_the_emoji_font_is_not_taken_for_it(tmp_path: Path) -> None:
    (tmp_path / "broken.ttf").write_bytes(b"not a font")

    assert glyphs.emoji_font(tmp_path / "broken.ttf") is None
    assert glyphs.emoji_font(tmp_path / "missing.ttf") is None
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.is_file():  # what fc-match answers for the emoji family where the emoji font is missing
        assert glyphs.emoji_font(dejavu) is None
