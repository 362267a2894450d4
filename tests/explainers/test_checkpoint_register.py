"""Registering checkpoint files: what is recorded, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from explainers.admin import CheckpointForm
from explainers.models import Checkpoint
from explainers.nn.checkpoints import CheckpointError
from explainers.services import checkpoint_register
from tests.explainers.helpers import TinyWorld

pytestmark = pytest.mark.django_db


def test_it_records_the_config_metrics_and_fingerprint_of_a_classifier(world: TinyWorld) -> None:
    checkpoint = checkpoint_register(kind="classifier", path=world.classifier, name="tiny")
    assert checkpoint.config == {"arch": "resnet18", "num_classes": 20, "image_size": 64}
    assert checkpoint.metrics == {"map": 0.5, "ap": {"cat": None}}  # NaN has no place in JSON
    assert len(checkpoint.sha256) == 64
    assert checkpoint.path == str(world.classifier.resolve())


def test_registering_the_same_file_twice_gives_one_row(world: TinyWorld) -> None:
    first = checkpoint_register(kind="decoder", path=world.decoder)
    second = checkpoint_register(kind="decoder", path=world.decoder)
    assert first.pk == second.pk
    assert Checkpoint.objects.count() == 1


def test_a_decoder_registered_as_a_classifier_is_refused_and_nothing_is_created(world: TinyWorld) -> None:
    with pytest.raises(
        CheckpointError, match=r"decoder\.pt.*holds a 'decoder' checkpoint, expected a 'classifier'"
    ):
        checkpoint_register(kind="classifier", path=world.decoder)
    assert not Checkpoint.objects.exists()


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nowhere\.pt: file not found"):
        checkpoint_register(kind="classifier", path=tmp_path / "nowhere.pt")
    assert not Checkpoint.objects.exists()


def test_the_admin_form_reports_a_file_of_the_wrong_kind_on_the_path_field(world: TinyWorld) -> None:
    form = CheckpointForm(data={"kind": "decoder", "name": "", "path": str(world.classifier)})
    assert not form.is_valid()
    assert "expected a 'decoder'" in form.errors["path"][0]


def test_registering_the_same_file_twice_keeps_one_row(world: TinyWorld) -> None:
    first = checkpoint_register(kind="classifier", path=world.classifier)
    again = checkpoint_register(kind="classifier", path=world.classifier, name="other name")
    assert again.pk == first.pk
    assert Checkpoint.objects.count() == 1
