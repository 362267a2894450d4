"""Render workers load each checkpoint once per process, keyed by its file's hash."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from explainers.models import RenderJob
from explainers.services import RenderError, checkpoint_network, checkpoint_register
from explainers.services import checkpoints as service
from tests.explainers.helpers import TinyWorld, tiny_job_create

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Counter, Counter]]:
    """A fresh process's caches, with every network load (by kind) and file hash (by name) counted."""
    loads: Counter[str] = Counter()
    hashes: Counter[str] = Counter()
    load, digest = service.network_load, service.file_sha256

    def counting_load(**arguments: object) -> object:
        loads[arguments["kind"]] += 1
        return load(**arguments)

    def counting_digest(path: Path) -> str:
        hashes[Path(path).name] += 1
        return digest(path)

    service.networks_forget()
    monkeypatch.setattr(service, "network_load", counting_load)
    monkeypatch.setattr(service, "file_sha256", counting_digest)
    yield loads, hashes
    service.networks_forget()


def test_each_checkpoint_is_loaded_and_hashed_once_however_many_chunks_and_jobs_run(
    world: TinyWorld,
    tmp_path: Path,
    counted: tuple[Counter, Counter],
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    loads, hashes = counted
    for number in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            job = tiny_job_create(
                world, output_dir=tmp_path / f"out{number}", slug=f"job{number}", chunk_size=1
            )
        job.refresh_from_db()
        assert (job.status, job.total) == ("succeeded", 6)  # 6 chunks of one image each

    assert loads == {"classifier": 1, "decoder": 1}
    assert hashes == {"classifier.pt": 3, "decoder.pt": 3}  # each job's registration, and rendering once


def test_a_copy_of_a_loaded_checkpoint_is_the_same_network(
    world: TinyWorld, tmp_path: Path, counted: tuple[Counter, Counter]
) -> None:
    loads, _ = counted
    copy = tmp_path / "copy.pt"
    shutil.copyfile(world.classifier, copy)
    original = checkpoint_network(
        checkpoint=checkpoint_register(kind="classifier", path=world.classifier), device="cpu"
    )

    again = checkpoint_network(checkpoint=checkpoint_register(kind="classifier", path=copy), device="cpu")

    assert again is original
    assert loads == {"classifier": 1}


def test_a_checkpoint_file_changed_since_it_was_registered_is_refused(
    world: TinyWorld, tmp_path: Path
) -> None:
    path = tmp_path / "classifier.pt"
    shutil.copyfile(world.classifier, path)
    checkpoint = checkpoint_register(kind="classifier", path=path)
    path.write_bytes(path.read_bytes() + b"\0")

    with pytest.raises(
        RenderError, match=r"classifier\.pt: the classifier checkpoint changed since it was registered"
    ):
        checkpoint_network(checkpoint=checkpoint, device="cpu")
    assert not RenderJob.objects.exists()
