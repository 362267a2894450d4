"""Render jobs end to end on a synthetic VOC split, with tasks run eagerly in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from explainers.models import Checkpoint, RenderedImage, RenderJob
from explainers.services import (
    RenderError,
    checkpoint_register,
    render_chunk,
    render_job_create,
    render_job_finish,
    render_job_retry,
    render_job_start,
)
from explainers.services.checkpoints import file_sha256
from survey.models import Study
from tests.explainers.helpers import IMAGE_SIZE, TinyWorld

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


@pytest.fixture
def networks(world: TinyWorld) -> tuple[Checkpoint, Checkpoint]:
    return (
        checkpoint_register(kind="classifier", path=world.classifier),
        checkpoint_register(kind="decoder", path=world.decoder),
    )


def job_create(
    world: TinyWorld, networks: tuple[Checkpoint, Checkpoint], out: Path, **extra: object
) -> RenderJob:
    classifier, decoder = networks
    arguments = {"slug": "tiny", "n_correct": 1, "n_wrong": 3, "chunk_size": 2, "output_dir": out}
    return render_job_create(
        classifier=classifier, decoder=decoder, dataset_root=world.voc, **{**arguments, **extra}
    )


def test_a_job_renders_every_image_and_imports_a_study_with_both_explanations(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(world, networks, tmp_path / "out", open_study=True)
    job.refresh_from_db()
    # 4 questions, the example, and from the spares a practice question and an instructed attention check
    assert (job.status, job.error, job.total, job.done) == ("succeeded", "", 7, 7)
    roles = sorted(job.questions.values_list("role", flat=True))
    assert roles == ["example", "instructed", "practice", "question", "question", "question", "question"]
    study = job.study
    assert study.is_open
    assert study.questions.count() == 4
    assert sorted(study.questions.values_list("model_correct", flat=True)) == [False, False, False, True]
    for question in study.questions.all():
        assert sorted(e.condition.key for e in question.explanations.all()) == ["gradcam", "pv"]
    example = job.questions.get(role="example")
    assert not study.questions.filter(key=example.key).exists()
    for condition in study.conditions.all():
        assert [e.caption for e in condition.examples.all()] == [
            f"For this photo the model predicted \u201c{example.prediction}\u201d."
        ]
    assert RenderedImage.objects.filter(question__job=job).count() == 7 * 4
    assert study.extra_questions.filter(role="practice").count() == 1
    check = study.extra_questions.get(role="attention")
    assert (check.kind, check.answer) == ("instructed", "cant_tell")
    assert all(c.comprehension for c in study.conditions.all())  # the methods' defaults


def test_the_bundle_holds_the_study_format_and_the_rendered_images(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(world, networks, tmp_path / "out")
    out = Path(job.output_dir)
    bundle = json.loads((out / "study.json").read_text())
    assert [c["key"] for c in bundle["conditions"]] == ["gradcam", "pv"]
    assert {q["key"] for q in bundle["questions"] if q["model_correct"]} == world.right_keys()
    for question in bundle["questions"]:
        assert question["model_correct"] == (question["prediction"] in question["labels"])
        assert len(set(question["options"])) == 4 and question["prediction"] in question["options"]
        if not question["model_correct"]:
            assert set(question["labels"]) & set(question["options"])
        for path in (question["image"], *question["explanations"].values()):
            assert Image.open(out / path).size == (IMAGE_SIZE, IMAGE_SIZE)
    for image in RenderedImage.objects.filter(question__job=job):
        assert file_sha256(out / image.path) == image.sha256


def test_a_chunk_run_again_after_a_partial_render_renders_only_what_is_missing(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # no task: the test plays the worker
        job = job_create(world, networks, tmp_path / "out")
    first_chunk = render_job_start(job_id=job.pk)[0]
    assert render_chunk(job_id=job.pk, keys=first_chunk) == 2
    out = Path(job.output_dir)
    lost_file = out / f"explanations/{first_chunk[0]}_pv.png"
    lost_file.unlink()  # the worker died after recording it, say, and the disk lost it
    RenderedImage.objects.get(question__key=first_chunk[1], kind="gradcam").delete()  # died before recording
    untouched = out / f"images/{first_chunk[0]}.png"
    before = untouched.stat().st_mtime_ns

    assert render_chunk(job_id=job.pk, keys=first_chunk) == 2
    assert render_chunk(job_id=job.pk, keys=first_chunk) == 0
    assert lost_file.is_file()
    assert untouched.stat().st_mtime_ns == before
    assert RenderedImage.objects.filter(question__key__in=first_chunk).count() == 2 * 4
    assert not list(out.rglob(".*.png"))  # no partial files left behind


def test_a_job_resumes_from_what_is_rendered_after_a_restart(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = job_create(world, networks, tmp_path / "out")
    chunks = render_job_start(job_id=job.pk)
    render_chunk(job_id=job.pk, keys=chunks[0])
    assert render_job_start(job_id=job.pk) == chunks[1:]  # a redelivered start keeps its questions
    for keys in chunks[1:]:
        render_chunk(job_id=job.pk, keys=keys)
    job = render_job_finish(job_id=job.pk)
    assert (job.status, job.done, job.study.questions.count()) == ("succeeded", 7, 4)


def test_a_decoder_checkpoint_given_as_the_classifier_is_refused_and_nothing_is_created(
    world: TinyWorld, networks: tuple, tmp_path: Path
) -> None:
    _, decoder = networks
    with pytest.raises(RenderError, match=r"decoder\.pt.* is a decoder, expected a classifier"):
        job_create(world, (decoder, decoder), tmp_path / "out")
    assert not RenderJob.objects.exists()


def test_a_decoder_for_another_encoder_is_refused_and_nothing_is_created(
    world: TinyWorld, networks: tuple, tmp_path: Path
) -> None:
    classifier, _ = networks
    wrong = checkpoint_register(kind="decoder", path=world.wrong_decoder)
    with pytest.raises(
        RenderError, match=r"takes 2048-channel features, but classifier .*\(resnet18\) gives 512"
    ):
        job_create(world, (classifier, wrong), tmp_path / "out")
    assert not RenderJob.objects.exists()


def test_a_taken_slug_a_missing_split_and_a_full_output_folder_are_refused(
    world: TinyWorld, networks: tuple, tmp_path: Path
) -> None:
    Study.objects.create(slug="tiny", name="Taken")
    with pytest.raises(RenderError, match="a study with slug 'tiny' already exists"):
        job_create(world, networks, tmp_path / "out")
    with pytest.raises(RenderError, match=r"no image list for the split 'tset'"):
        job_create(world, networks, tmp_path / "out", slug="other", split="tset")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "study.json").write_text("{}")
    with pytest.raises(RenderError, match="full: not an empty folder"):
        job_create(world, networks, tmp_path / "full", slug="other")
    assert not RenderJob.objects.exists()


def test_a_split_too_small_for_the_questions_fails_the_job_with_the_reason(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(world, networks, tmp_path / "out", n_correct=16, n_wrong=14)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error.startswith(
        "the test split has 12 images: 1 the model gets right (P = L) and 11 it gets wrong "
        "(P and L disjoint); 16 right and 14 wrong were asked for"
    )
    assert job.study is None and not Study.objects.exists()


def test_images_whose_grad_cam_mask_is_empty_are_left_out_and_the_job_says_how_many(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    blind = checkpoint_register(kind="classifier", path=world.blind_classifier)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(world, (blind, networks[1]), tmp_path / "out", n_correct=1, n_wrong=1)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error.startswith(
        "the test split has 12 images: 1 the model gets right (P = L) and 11 it gets wrong (P and L "
        "disjoint); left out 12 eligible whose Grad-CAM mask is (almost) empty; 1 right and 1 wrong were "
        "asked for"
    )


def test_a_failed_job_run_again_keeps_its_questions_and_images_and_succeeds(
    world: TinyWorld, networks: tuple, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    decoder_file = Path(networks[1].path)
    hidden = decoder_file.rename(tmp_path / "hidden.pt")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = job_create(world, networks, tmp_path / "out")
    finally:
        hidden.rename(decoder_file)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", f"{decoder_file}: the decoder checkpoint file is gone")
    picked = list(job.questions.values_list("key", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        render_job_retry(job=job)
    job.refresh_from_db()
    assert (job.status, job.error) == ("succeeded", "")
    assert list(job.questions.values_list("key", flat=True)) == picked


def test_only_a_failed_job_can_be_run_again(world: TinyWorld, networks: tuple, tmp_path: Path) -> None:
    job = job_create(world, networks, tmp_path / "out")
    with pytest.raises(RenderError, match="only a failed job can be re-run"):
        render_job_retry(job=job)
