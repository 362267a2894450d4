"""A bundle uploaded as a .zip: a good one imports, a bad one imports nothing and names its problems."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from survey.models import Question, Study
from survey.services.bundle_archive import study_export_zip, study_import_zip
from survey.services.bundle_validation import BundleError
from tests.factories import png_bytes
from tests.survey.bundle_helpers import bundle_json_read, bundle_json_write, bundle_write, media_files
from tests.survey.zip_helpers import add_symlink, bundle_zip, folder_zip, upload

pytestmark = pytest.mark.django_db


def _entry(name: str, data: bytes = b"") -> Callable[[zipfile.ZipFile], None]:
    return lambda archive: archive.writestr(name, data or png_bytes())


BAD_ARCHIVES: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "a path outside the folder": (
        lambda base: bundle_zip(base, extra=_entry("../escaped.png")),
        "../escaped.png: points outside the archive",
    ),
    "an absolute path": (
        lambda base: bundle_zip(base, extra=_entry("/tmp/absolute.png")),
        "/tmp/absolute.png: is not a relative path inside the archive",
    ),
    "a symlink": (
        lambda base: bundle_zip(base, extra=add_symlink),
        "images/link.png: is a symbolic link",
    ),
    "a file that is not an image": (
        lambda base: bundle_zip(base, extra=_entry("notes.html", b"<script>alert(1)</script>")),
        "notes.html: is not an image",
    ),
    "an image that is not one inside": (
        lambda base: bundle_zip(base, extra=_entry("images/fake.png", b"<html>not a picture</html>")),
        "images/fake.png is not an image",
    ),
    "a zip bomb (too large unpacked)": (
        lambda base: bundle_zip(base, extra=_entry("images/huge.png", bytes(3 * 1024 * 1024))),
        "the archive unpacks to 3 MB; at most 2 MB are accepted",
    ),
    "too many files": (
        lambda base: bundle_zip(
            base, extra=lambda a: [a.writestr(f"images/x{n}.png", png_bytes()) for n in range(30)]
        ),
        "files; at most 25 are accepted",
    ),
    "not a zip at all": (lambda base: b"PK but not really a zip file", "the upload is not a .zip archive"),
    "no study.json": (
        lambda base: folder_zip(bundle_write(base / "b") / "images"),
        "the archive has no study.json at its top",
    ),
}


@pytest.fixture(autouse=True)
def _small_caps(settings) -> None:
    settings.SURVEY_IMPORT_MAX_MB = 2
    settings.SURVEY_IMPORT_MAX_FILES = 25


def test_a_good_zip_imports_the_study_with_every_image(tmp_path: Path) -> None:
    study = study_import_zip(upload=io.BytesIO(bundle_zip(tmp_path)))

    assert (study.slug, study.status, study.questions.count(), study.conditions.count()) == (
        "bundled",
        "draft",
        3,
        2,
    )
    assert len(media_files()) == 3 + 3 * 2 + 2  # inputs, explanations, one example per condition


def test_a_zip_of_the_bundle_folder_itself_imports_too(tmp_path: Path) -> None:
    study = study_import_zip(upload=io.BytesIO(bundle_zip(tmp_path, top="bundled")), open_study=True)
    assert study.is_open


def test_archiver_litter_from_macos_is_left_out_rather_than_refused(tmp_path: Path) -> None:
    archive = bundle_zip(
        tmp_path,
        extra=lambda a: (a.writestr("__MACOSX/._study.json", b"\x00"), a.writestr(".DS_Store", b"x")),
    )
    assert study_import_zip(upload=io.BytesIO(archive)).slug == "bundled"


@pytest.mark.parametrize("case", BAD_ARCHIVES, ids=list(BAD_ARCHIVES))
def test_a_bad_archive_imports_nothing_and_names_its_problem(case: str, tmp_path: Path) -> None:
    make, problem = BAD_ARCHIVES[case]

    with pytest.raises(BundleError) as refused:
        study_import_zip(upload=io.BytesIO(make(tmp_path)))

    assert any(problem in line for line in refused.value.problems), refused.value.problems
    assert not Study.objects.exists()
    assert media_files() == []


def test_a_bad_bundle_inside_a_good_archive_lists_every_bad_entry(tmp_path: Path) -> None:
    folder = bundle_write(tmp_path / "bundled")
    data = bundle_json_read(folder)
    data["questions"][1]["options"] = ["tvmonitor", "cat", "cat", "chair"]
    data["questions"][2]["prediction"] = "dog"
    bundle_json_write(folder, data)

    with pytest.raises(BundleError) as refused:
        study_import_zip(upload=io.BytesIO(folder_zip(folder)))

    assert "question 2008_000001: option cat appears more than once" in refused.value.problems
    assert "question 2008_000002: the prediction 'dog' is not among the options" in refused.value.problems
    assert not Study.objects.exists() and media_files() == []


def test_an_exported_zip_imports_again_as_the_same_study(tmp_path: Path) -> None:
    original = study_import_zip(upload=io.BytesIO(bundle_zip(tmp_path)))
    with study_export_zip(study=original) as archive:
        data = archive.read()
    keys = list(original.questions.values_list("key", "labels", "options", "prediction", "model_correct"))

    again = study_import_zip(upload=io.BytesIO(data), replace=True)

    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0].startswith("bundled/")
    assert (
        list(again.questions.values_list("key", "labels", "options", "prediction", "model_correct")) == keys
    )
    assert Question.objects.count() == 3


# Through the admin


def test_the_study_list_offers_the_import_and_the_page_imports_a_good_zip(
    admin_client: Client, tmp_path: Path
) -> None:
    url = reverse("admin:survey_study_import")
    assert url == "/admin/survey/study/import/"
    assert url in admin_client.get(reverse("admin:survey_study_changelist")).text

    response = admin_client.post(url, {"archive": upload(bundle_zip(tmp_path)), "open_study": "on"})

    study = Study.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:survey_study_change", args=[study.pk])
    assert study.is_open


def test_the_import_page_shows_every_problem_of_a_bad_zip_and_imports_nothing(
    admin_client: Client, tmp_path: Path
) -> None:
    archive = bundle_zip(tmp_path, extra=lambda a: (_entry("../x.png")(a), add_symlink(a)))

    response = admin_client.post(reverse("admin:survey_study_import"), {"archive": upload(archive)})

    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    assert "../x.png: points outside the archive" in response.text
    assert "images/link.png: is a symbolic link" in response.text
    assert not Study.objects.exists()


def test_staff_without_leave_to_add_studies_cannot_import(client: Client, django_user_model) -> None:
    staff = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:survey_study_import")).status_code == 403
