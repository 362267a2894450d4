"""make_synthetic_voc: the dataset it writes, and what it says when the emoji font is missing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from explainers.nn import glyphs
from explainers.nn.data import VOCDataset


def test_it_writes_the_splits_it_is_asked_for_and_names_the_renderer(tmp_path: Path) -> None:
    out, err = StringIO(), StringIO()

    call_command("make_synthetic_voc", str(tmp_path), train=3, val=2, test=1, size=32, stdout=out, stderr=err)

    assert [len(VOCDataset(tmp_path, split)) for split in ("train", "val", "test")] == [3, 2, 1]
    expected = "emoji" if glyphs.emoji_font_path() is not None else "shapes"
    assert f"Wrote 6 synthetic VOC images ({expected}) to {tmp_path}" in out.getvalue()


def test_without_the_emoji_font_it_draws_shapes_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glyphs, "emoji_font_path", lambda: None)
    out, err = StringIO(), StringIO()

    call_command("make_synthetic_voc", str(tmp_path), train=2, val=0, test=0, size=32, stdout=out, stderr=err)

    assert glyphs.FONT_MISSING in err.getvalue()
    assert "Wrote 2 synthetic VOC images (shapes)" in out.getvalue()
