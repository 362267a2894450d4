"""The demo's dataset: drawn once, whole, in the font's emoji or, without it, in shapes that it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo import rendered
from demo.training import BUDGETS, voc_ensure
from explainers.nn import glyphs
from explainers.nn.glyphs import glyphs_load

TINY = BUDGETS["tiny"]


def test_the_dataset_is_drawn_once_and_a_half_drawn_one_is_drawn_again(tmp_path: Path) -> None:
    said: list[str] = []
    root = tmp_path / "voc"
    (tmp_path / "voc.drawing" / "JPEGImages").mkdir(parents=True)  # what a Ctrl-C while drawing leaves
    (root / "JPEGImages").mkdir(parents=True)  # and what an older demo, drawing in place, left

    voc_ensure(root, plan=TINY, seed=0, glyphs=glyphs_load(), log=said.append)
    drawn = {path: path.stat().st_mtime_ns for path in root.rglob("*") if path.is_file()}
    voc_ensure(root, plan=TINY, seed=0, glyphs=glyphs_load(), log=said.append)

    assert len(list((root / "JPEGImages").glob("*.jpg"))) == TINY.n_train + TINY.n_val + TINY.n_test
    assert not (tmp_path / "voc.drawing").exists()
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*") if path.is_file()} == drawn
    assert [line for line in said if line.startswith("dataset: done in ")] == [said[-1]]  # drawn once


@pytest.mark.django_db
def test_without_the_emoji_font_the_demo_says_it_draws_shapes_and_keeps_them_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glyphs, "emoji_font_path", lambda: None)
    said: list[str] = []

    rendered.demo_bundle_render(
        directory=tmp_path / "bundle", work_dir=tmp_path / "work", budget="tiny", log=said.append
    )

    assert f"Note: {glyphs.FONT_MISSING}." in said
    assert [path.name.rsplit("-", 1)[-1] for path in (tmp_path / "work").iterdir()] == ["shapes"]
