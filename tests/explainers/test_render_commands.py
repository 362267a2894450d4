"""manage.py render_study and register_checkpoint, run eagerly (no broker) on the tiny world."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from explainers.models import Checkpoint, RenderJob
from tests.explainers.helpers import TinyWorld, tiny_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> TinyWorld:
    return tiny_world(tmp_path_factory.getbasetemp() / "tiny-world")


def render_study(world: TinyWorld, out: Path, *extra: str, classifier: Path | None = None) -> str:
    stdout = io.StringIO()
    call_command(
        "render_study",
        f"--classifier={classifier or world.classifier}",
        f"--decoder={world.decoder}",
        f"--voc={world.voc}",
        "--slug=tiny",
        "--n-correct=1",
        "--n-wrong=2",
        f"--output-dir={out}",
        *extra,
        stdout=stdout,
    )
    return stdout.getvalue()


@pytest.mark.django_db(transaction=True)  # the command commits, and the job runs on commit, as in use
def test_render_study_renders_the_study_and_prints_where_participants_find_it(
    world: TinyWorld, tmp_path: Path
) -> None:
    output = render_study(world, tmp_path / "out", "--open")
    assert "1 right and 2 wrong questions from the test split" in output
    assert "Study 'tiny' is open: /s/tiny/" in output
    assert RenderJob.objects.get().study.questions.count() == 3


def test_render_study_given_a_decoder_as_classifier_says_so_and_creates_nothing(
    world: TinyWorld, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="holds a 'decoder' checkpoint, expected a 'classifier'"):
        render_study(world, tmp_path / "out", classifier=world.decoder)
    assert not Checkpoint.objects.exists()
    assert not RenderJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_render_study_reports_a_failed_job_with_its_reason(world: TinyWorld, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        render_study(world, tmp_path / "out", "--n-correct=5")
    assert str(caught.value) == (
        f"Render job {RenderJob.objects.get().pk} failed: the test split has 1 images the model gets right "
        "and 11 it gets wrong; 5 right and 2 wrong were asked for"
    )


def test_register_checkpoint_records_the_file_and_prints_its_config(world: TinyWorld) -> None:
    stdout = io.StringIO()
    call_command("register_checkpoint", "decoder", str(world.decoder), "--name=tiny decoder", stdout=stdout)
    checkpoint = Checkpoint.objects.get()
    assert f"Checkpoint {checkpoint.pk}: tiny decoder (decoder, {checkpoint.sha256[:8]})" in stdout.getvalue()
    assert "'in_channels': 512" in stdout.getvalue()
