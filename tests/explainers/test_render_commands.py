"""manage.py render_study and register_checkpoint, run eagerly (no broker) on the tiny world."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from explainers.models import Checkpoint, RenderJob
from tests.explainers.helpers import TinyWorld

pytestmark = pytest.mark.django_db


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
    assert str(caught.value).startswith(
        f"Render job {RenderJob.objects.get().pk} failed: the test split has 12 images: 1 the model gets "
        "right (P = L) and 11 it gets wrong (P and L disjoint); 5 right and 2 wrong were asked for"
    )


def test_register_checkpoint_records_the_file_and_prints_its_config(world: TinyWorld) -> None:
    stdout = io.StringIO()
    call_command("register_checkpoint", "decoder", str(world.decoder), "--name=tiny decoder", stdout=stdout)
    checkpoint = Checkpoint.objects.get()
    assert f"Checkpoint {checkpoint.pk}: tiny decoder (decoder, {checkpoint.sha256[:8]})" in stdout.getvalue()
    assert "'in_channels': 512" in stdout.getvalue()


def test_a_dry_run_lists_the_counts_and_the_picks_and_writes_nothing(
    world: TinyWorld, tmp_path: Path
) -> None:
    output = render_study(world, tmp_path / "out", "--dry-run")

    assert "Dry run: nothing was rendered or written." in output
    assert "      12  images in the split" in output
    assert "       1  eligible, the model is right (P = L)" in output
    assert "      11  eligible, the model is wrong (P and L disjoint)" in output
    assert "Picked 1 right and 2 wrong questions:" in output
    right = next(line for line in output.splitlines() if ": right;" in line)
    assert "labels aeroplane; P aeroplane; top aeroplane (1.00); options " in right
    # two questions, the example, and a practice question and an attention check from the spares
    assert sum(": wrong" in line for line in output.splitlines()) == 5
    assert "(practice)" in output and "(attention check: instructed response)" in output
    assert not (tmp_path / "out").exists()
    assert not Checkpoint.objects.exists() and not RenderJob.objects.exists()


def test_a_dry_run_on_a_split_too_small_says_how_many_images_of_each_kind_it_has(
    world: TinyWorld, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as caught:
        render_study(world, tmp_path / "out", "--dry-run", "--n-correct=3")

    assert str(caught.value).startswith(
        "Dry run: the test split has 12 images: 1 the model gets right (P = L) and 11 it gets wrong"
    )
    assert "3 right and 2 wrong were asked for" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_the_difficult_policy_is_recorded_on_the_job_and_in_the_bundle(
    world: TinyWorld, tmp_path: Path
) -> None:
    render_study(world, tmp_path / "out", "--ignore-difficult")

    job = RenderJob.objects.get()
    assert job.difficult == "ignore"
    assert json.loads((tmp_path / "out" / "study.json").read_text())["selection"]["difficult"] == "ignore"


@pytest.mark.django_db(transaction=True)
def test_render_study_builds_the_conditions_it_is_given_in_order_with_the_saliency_recorded(
    world: TinyWorld, tmp_path: Path
) -> None:
    render_study(world, tmp_path / "out", "--methods=gradcam,pv,none", "--saliency=gradcam++")

    job = RenderJob.objects.get()
    study = job.study
    assert (job.methods, job.saliency, study.saliency) == (
        ["gradcam", "pv", "none"],
        "gradcam++",
        "gradcam++",
    )
    assert list(study.conditions.values_list("key", "name")) == [
        ("gradcam", "Grad-CAM"),
        ("pv", "Perception Visualization"),
        ("none", "No explanation"),
    ]
    for question in study.questions.all():
        assert sorted(e.condition.key for e in question.explanations.all()) == ["gradcam", "none", "pv"]
    bundle = json.loads((tmp_path / "out" / "study.json").read_text())
    assert bundle["saliency"] == "gradcam++"
    none = next(c for c in bundle["conditions"] if c["key"] == "none")
    assert none["intro"].startswith("Each picture is shown as the model saw it")


def test_render_study_refuses_an_unknown_method_and_creates_nothing(world: TinyWorld, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unknown explanation method 'lime'"):
        render_study(world, tmp_path / "out", "--methods=gradcam,lime")
    assert not RenderJob.objects.exists()
