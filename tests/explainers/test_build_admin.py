"""A researcher builds a study from models in the admin: checkpoints uploaded, a dry run, a render job
followed to an open-able study; with tasks run eagerly in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from explainers.models import Checkpoint, RenderJob, SelectionDryRun
from explainers.services import checkpoint_register
from survey.models import Study
from tests.explainers.helpers import TinyWorld, tiny_job_create

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


@pytest.fixture
def roots(settings, world: TinyWorld, tmp_path: Path) -> Path:
    settings.EXPLAINERS_DATASET_ROOTS = [world.voc.parent]
    settings.EXPLAINERS_CHECKPOINT_ROOT = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"


def build_form(world: TinyWorld, **changes: object) -> dict[str, object]:
    classifier = checkpoint_register(kind="classifier", path=world.classifier)
    decoder = checkpoint_register(kind="decoder", path=world.decoder)
    form = {
        "slug": "from-the-admin",
        "name": "Built in the browser",
        "description": "",
        "classifier": classifier.pk,
        "decoder": decoder.pk,
        "dataset": str(world.voc.resolve()),
        "split": "test",
        "n_correct": 1,
        "n_wrong": 2,
        "seed": 0,
        "methods": ["gradcam", "pv"],
        "saliency": "gradcam",
        "difficult": "labels",
    }
    return {**form, **changes}


# Checkpoints


def test_an_uploaded_checkpoint_is_streamed_to_the_checkpoint_folder_and_registered(
    admin_client: Client, world: TinyWorld, roots: Path
) -> None:
    upload = SimpleUploadedFile("my decoder.pt", world.decoder.read_bytes())

    response = admin_client.post(
        reverse("admin:explainers_checkpoint_add"), {"kind": "decoder", "name": "", "upload": upload}
    )

    assert response.status_code == 302
    checkpoint = Checkpoint.objects.get()
    stored = Path(checkpoint.path)
    assert stored.parent == roots.resolve() and stored.read_bytes() == world.decoder.read_bytes()
    assert (checkpoint.kind, checkpoint.name, checkpoint.config["in_channels"]) == (
        "decoder",
        "my decoder",
        512,
    )
    assert [path.name for path in roots.iterdir()] == [stored.name]  # no partial file left behind


def test_an_uploaded_checkpoint_of_the_wrong_kind_is_refused_and_not_kept(
    admin_client: Client, world: TinyWorld, roots: Path
) -> None:
    upload = SimpleUploadedFile("classifier.pt", world.classifier.read_bytes())

    response = admin_client.post(
        reverse("admin:explainers_checkpoint_add"), {"kind": "decoder", "name": "", "upload": upload}
    )

    assert response.status_code == 200
    assert "expected a &#x27;decoder&#x27;" in response.text
    assert not Checkpoint.objects.exists()
    assert list(roots.iterdir()) == []


def test_a_checkpoint_needs_an_upload_or_a_path_but_not_both(
    admin_client: Client, world: TinyWorld, roots: Path
) -> None:
    url = reverse("admin:explainers_checkpoint_add")
    neither = admin_client.post(url, {"kind": "decoder", "name": ""})
    both = admin_client.post(
        url,
        {"kind": "decoder", "path": str(world.decoder), "upload": SimpleUploadedFile("d.pt", b"x")},
    )
    for response in (neither, both):
        assert "Upload a checkpoint file or give the path of one, not both." in response.text
    assert not Checkpoint.objects.exists()


# Building


def test_the_build_page_offers_the_datasets_found_under_the_roots_and_their_splits(
    admin_client: Client, world: TinyWorld, roots: Path
) -> None:
    page = admin_client.get(reverse("admin:explainers_renderjob_build")).text

    assert f'<option value="{world.voc.resolve()}">tiny-world/voc</option>' in page
    assert '<option value="test">test</option>' in page
    assert (
        reverse("admin:explainers_renderjob_build")
        in admin_client.get(reverse("admin:explainers_renderjob_changelist")).text
    )


def test_a_dataset_outside_the_roots_is_refused(
    admin_client: Client, world: TinyWorld, roots: Path, tmp_path: Path
) -> None:
    response = admin_client.post(
        reverse("admin:explainers_renderjob_build"), build_form(world, dataset=str(tmp_path), start="1")
    )
    assert "Select a valid choice" in response.text
    assert not RenderJob.objects.exists()


def test_the_dry_run_shows_the_counts_and_picks_and_refills_the_form(
    admin_client: Client, world: TinyWorld, roots: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    url = reverse("admin:explainers_renderjob_build")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, build_form(world, dry_run="Dry run"))

    dry_run = SelectionDryRun.objects.get()
    assert (dry_run.status, dry_run.error) == ("succeeded", "")
    assert response.url == f"{url}?dry_run={dry_run.pk}"
    page = admin_client.get(response.url).text
    assert '<th scope="row">eligible, the model is right (P = L)</th><td>1</td>' in page
    assert [pick["correct"] for pick in dry_run.picks if not pick["example"]] == [True, False, False]
    for pick in dry_run.picks:
        assert pick["key"] in page
    assert 'value="from-the-admin"' in page  # the form, refilled for "Start rendering"
    assert not RenderJob.objects.exists()
    state = admin_client.get(reverse("admin:explainers_renderjob_dry_run", args=[dry_run.pk])).json()
    assert state == {"status": "succeeded", "finished": True, "error": ""}


def test_a_dry_run_that_cannot_pick_enough_says_why(
    admin_client: Client, world: TinyWorld, roots: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    url = reverse("admin:explainers_renderjob_build")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, build_form(world, n_correct=50, dry_run="1"))
    dry_run = SelectionDryRun.objects.get()
    assert dry_run.status == "failed"
    assert "1 the model gets right (P = L)" in dry_run.error
    assert "50 right and 2 wrong were asked for" in admin_client.get(response.url).text


def test_a_render_started_from_the_admin_runs_to_a_study_that_opens(
    admin_client: Client, world: TinyWorld, roots: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:explainers_renderjob_build"), build_form(world, start="1")
        )

    job = RenderJob.objects.get()
    assert response.url == reverse("admin:explainers_renderjob_change", args=[job.pk])
    assert (job.status, job.error, job.done, job.total, job.methods) == (
        "succeeded",
        "",
        6,  # three questions, the intros' example, and the practice and attention images from the spares
        6,
        ["gradcam", "pv"],
    )
    page = admin_client.get(response.url).text
    study_url = reverse("admin:survey_study_change", args=[job.study.pk])
    assert f'href="{study_url}"' in page and "Done: all 6 images rendered." in page
    assert 'name="_save"' not in page  # a job is shown, never edited
    admin_client.post(reverse("admin:survey_study_launch", args=[job.study.pk, "open"]))
    assert Study.objects.get(slug="from-the-admin").is_open


def test_the_progress_endpoint_says_what_the_job_row_says(
    admin_client: Client, world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = tiny_job_create(world, output_dir=tmp_path / "out")
    RenderJob.objects.filter(pk=job.pk).update(status="running", total=4, done=1)
    url = reverse("admin:explainers_renderjob_progress", args=[job.pk])

    running = admin_client.get(url).json()
    RenderJob.objects.filter(pk=job.pk).update(status="failed", error="RuntimeError: out of memory")
    failed = admin_client.get(url).json()
    page = admin_client.get(reverse("admin:explainers_renderjob_change", args=[job.pk])).text

    assert running == {
        "status": "running", "done": 1, "total": 4, "finished": False, "error": "",
        "text": "Rendering: 1 of 4 images.", "study_url": None,
    }  # fmt: skip
    assert (failed["finished"], failed["error"]) == (True, "RuntimeError: out of memory")
    assert "Why it failed:</strong> RuntimeError: out of memory" in page
    assert reverse("admin:explainers_renderjob_rerun", args=[job.pk]) in page
