from __future__ import annotations

import colorsys
import logging
import random
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explainers.nn import glyphs
from explainers.nn.data import VOC_CLASSES, voc_objects, write_synthetic_voc
from explainers.nn.glyphs import Glyphs
from explainers.nn.synthetic import DIFFICULT_SIDE, DIFFICULT_VISIBLE, image_rng, scene_draw


def hue_glyphs() -> Glyphs:
    """Each class a solid rectangle of its own hue, 18 degrees from the next: what is drawn is readable."""
    colours = [colorsys.hsv_to_rgb(index / 20, 1.0, 0.7) for index in range(20)]
    return Glyphs(
        "test", tuple(Image.new("RGBA", (40, 30), (*(round(c * 255) for c in rgb), 255)) for rgb in colours)
    )


def hue_turns(image: Image.Image) -> np.ndarray:
    """(S, S) hue of each pixel, in turns."""
    return np.asarray(image.convert("HSV"), dtype=np.float32)[..., 0] / 256


def mean_difference(image: Image.Image, other: Image.Image) -> float:
    return float(np.abs(np.asarray(image, dtype=np.float32) - np.asarray(other, dtype=np.float32)).mean())


def test_each_box_bounds_exactly_the_pixels_its_object_shows() -> None:
    for seed in range(20):
        scene = scene_draw(128, seed, random.Random(seed), hue_glyphs())

        for index, item in enumerate(scene.objects):
            rows, columns = np.nonzero(scene.owners == index)
            assert item.box == (columns.min() + 1, rows.min() + 1, columns.max() + 1, rows.max() + 1)


def test_each_object_is_drawn_in_the_glyph_of_the_class_it_is_annotated_as() -> None:
    for seed in range(20):
        scene = scene_draw(128, seed, random.Random(seed), hue_glyphs())
        hues = hue_turns(scene.image)

        assert VOC_CLASSES[seed] in [item.name for item in scene.objects]
        for index, item in enumerate(scene.objects):
            drawn = float(np.median(hues[scene.owners == index]))
            expected = VOC_CLASSES.index(item.name) / 20
            assert min(abs(drawn - expected), 1 - abs(drawn - expected)) < 1 / 40, item.name


def test_the_class_an_image_is_about_is_large_and_never_difficult() -> None:
    for seed in range(40):
        scene = scene_draw(64, seed % 20, random.Random(seed), hue_glyphs())

        first = next(item for item in scene.objects if item.name == VOC_CLASSES[seed % 20])
        assert first.visible >= 0.6 and not first.difficult


def test_small_or_mostly_hidden_objects_are_difficult_and_only_those() -> None:
    reasons = {"small": 0, "hidden": 0, "plain": 0}
    for seed in range(300):
        for item in scene_draw(128, seed % 20, random.Random(seed), hue_glyphs()).objects:
            x0, y0, x1, y1 = item.box
            small = max(x1 - x0, y1 - y0) + 1 < DIFFICULT_SIDE * 128
            hidden = item.visible < DIFFICULT_VISIBLE
            assert item.difficult == (small or hidden)
            reasons["small" if small else "hidden" if hidden else "plain"] += 1

    assert reasons["small"] > 20 and reasons["hidden"] > 5 and reasons["plain"] > 300


def test_the_annotations_written_are_those_of_the_scene_drawn(tmp_path: Path) -> None:
    coded = hue_glyphs()
    root = write_synthetic_voc(tmp_path, n_train=1, n_val=0, n_test=0, image_size=96, seed=3, glyphs=coded)
    scene = scene_draw(96, 0, image_rng(3, 1), coded)  # the writer's first image, from the same seed

    annotation = ElementTree.parse(root / "Annotations" / "synth_000001.xml").getroot()
    boxes = [
        tuple(int(element.findtext(f"bndbox/{edge}")) for edge in ("xmin", "ymin", "xmax", "ymax"))
        for element in annotation.iter("object")
    ]
    assert voc_objects(root / "Annotations" / "synth_000001.xml") == [
        (item.name, item.difficult) for item in scene.objects
    ]
    assert boxes == [item.box for item in scene.objects]
    other = scene_draw(96, 0, random.Random(4), coded).image
    with Image.open(root / "JPEGImages" / "synth_000001.jpg") as written:
        same, different = mean_difference(written, scene.image), mean_difference(written, other)
    assert same < 5 and different > 20  # the same picture, give or take JPEG's rounding


def test_without_the_font_the_writer_warns_that_it_draws_shapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(glyphs, "emoji_font_path", lambda: None)

    with caplog.at_level(logging.WARNING, logger="explainers.nn.synthetic"):
        write_synthetic_voc(tmp_path, n_train=2, n_val=0, n_test=0, image_size=32)

    assert glyphs.FONT_MISSING in [record.getMessage() for record in caplog.records]
    assert len(list((tmp_path / "JPEGImages").glob("*.jpg"))) == 2


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    options = {"n_train": 6, "n_val": 2, "n_test": 2, "image_size": 64}
    first = write_synthetic_voc(tmp_path / "a", seed=7, **options)
    again = write_synthetic_voc(tmp_path / "b", seed=7, **options)
    other = write_synthetic_voc(tmp_path / "c", seed=8, **options)

    files = sorted(path.relative_to(first) for path in first.rglob("*") if path.is_file())
    assert len(files) == 10 + 10 + 4 + 4 * 20
    assert all((first / name).read_bytes() == (again / name).read_bytes() for name in files)
    image = Path("JPEGImages/synth_000001.jpg")
    assert (first / image).read_bytes() != (other / image).read_bytes()


def test_the_writer_reports_each_image_as_it_is_written(tmp_path: Path) -> None:
    written: list[int] = []

    def count() -> None:
        written.append(len(list((tmp_path / "JPEGImages").glob("*.jpg"))))

    write_synthetic_voc(
        tmp_path, n_train=3, n_val=1, n_test=2, image_size=32, glyphs=hue_glyphs(), on_image=count
    )

    assert written == [1, 2, 3, 4, 5, 6]  # once per image, after its file exists
