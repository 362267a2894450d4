"""manage.py export_checkpoint: an inference checkpoint from a training one, optionally registered."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from explainers.models import Checkpoint
from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.classifier import classifier_load, classifier_save
from tests.explainers.helpers import TinyWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(world: TinyWorld, tmp_path: Path) -> Path:
    """The tiny classifier as training leaves it: with an optimiser's state beside its weights."""
    model = classifier_load(world.classifier)
    optimizer = {"state": {i: {"exp_avg": p.detach().clone()} for i, p in enumerate(model.parameters())}}
    classifier_save(model, tmp_path / "training.pt", epoch=4, optimizer=optimizer)
    return tmp_path / "training.pt"


def test_it_writes_a_smaller_inference_checkpoint_and_can_register_it(trained: Path, tmp_path: Path) -> None:
    stdout = io.StringIO()
    call_command(
        "export_checkpoint", "classifier", str(trained), str(tmp_path / "m.pt"), "--register", stdout=stdout
    )

    payload = checkpoint_load(tmp_path / "m.pt", kind="classifier")
    assert "optimizer" not in payload and payload["inference"] and payload["epoch"] == 4
    assert f"Wrote {tmp_path / 'm.pt'} (" in stdout.getvalue()
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.path, checkpoint.kind) == (str(tmp_path / "m.pt"), "classifier")
    assert (tmp_path / "m.pt").stat().st_size < trained.stat().st_size * 0.6


def test_it_never_overwrites_a_file_and_registers_nothing_then(trained: Path, tmp_path: Path) -> None:
    (tmp_path / "taken.pt").write_bytes(b"mine")

    with pytest.raises(CommandError, match=r"taken\.pt: already exists; export to a new file"):
        call_command(
            "export_checkpoint", "classifier", str(trained), str(tmp_path / "taken.pt"), "--register"
        )

    assert (tmp_path / "taken.pt").read_bytes() == b"mine"
    assert not Checkpoint.objects.exists()


def test_a_decoder_exported_as_a_classifier_is_refused(world: TinyWorld, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="holds a 'decoder' checkpoint, expected a 'classifier'"):
        call_command("export_checkpoint", "classifier", str(world.decoder), str(tmp_path / "m.pt"))
    assert not (tmp_path / "m.pt").exists()
