"""E runs once per image: rendering starts from the features selection computed for its picks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torch import Tensor

from explainers.nn.classifier import Classifier
from explainers.services.checkpoints import networks_forget
from tests.explainers.helpers import TinyWorld, tiny_job_create

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many images each call of E is given."""
    calls: list[int] = []
    encode = Classifier.encode

    def counting(self: Classifier, x: Tensor) -> Tensor:
        calls.append(len(x))
        return encode(self, x)

    monkeypatch.setattr(Classifier, "encode", counting)
    networks_forget()
    return calls


def rendered(world: TinyWorld, out: Path, on_commit: OnCommit, slug: str) -> Path:
    with on_commit(execute=True):
        job = tiny_job_create(world, output_dir=out, slug=slug, n_correct=1, n_wrong=4, chunk_size=2)
    job.refresh_from_db()
    assert (job.status, job.total) == ("succeeded", 8)  # with the practice and attention images
    return out


def test_a_job_runs_e_once_per_image_of_its_split(
    world: TinyWorld, tmp_path: Path, encoded: list[int], django_capture_on_commit_callbacks: OnCommit
) -> None:
    rendered(world, tmp_path / "out", django_capture_on_commit_callbacks, "once")

    assert sum(encoded) == 12  # the split's 12 images, picked or not; none again to render the 8 picks


def test_without_room_for_the_features_e_runs_again_and_the_pictures_agree_to_a_level(
    world: TinyWorld,
    tmp_path: Path,
    encoded: list[int],
    settings: object,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    kept = rendered(world, tmp_path / "kept", django_capture_on_commit_callbacks, "kept")
    settings.EXPLAINERS_FEATURE_CACHE_MB = 0
    encoded.clear()

    again = rendered(world, tmp_path / "again", django_capture_on_commit_callbacks, "again")

    assert sum(encoded) == 12 + 8  # the split, then the 8 picks again
    pictures = sorted(path.relative_to(kept) for path in kept.rglob("*.png"))
    assert len(pictures) == 8 * 4 + 2  # and the two introductions' examples
    for picture in pictures:
        first, second = (np.asarray(Image.open(root / picture), dtype=int) for root in (kept, again))
        assert np.abs(first - second).max() <= 1
