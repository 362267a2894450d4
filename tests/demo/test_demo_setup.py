from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from survey.models import Explanation, Question, Study
from survey.services.studies import study_readiness_problems
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def _demo_setup(*args: str) -> str:
    out = StringIO()
    call_command("demo_setup", *args, stdout=out)
    return out.getvalue()


def test_running_it_twice_keeps_one_open_complete_demo_study_and_one_researcher(settings) -> None:
    settings.DEBUG = True  # as under `make demo`

    first = _demo_setup("--drawn")
    second = _demo_setup("--drawn", "--host", "0.0.0.0", "--port", "8123")

    study = Study.objects.get()
    assert (study.slug, study.status) == ("demo", Study.Status.OPEN)
    assert study_readiness_problems(study=study) == []
    assert study.questions.count() == 30
    assert study.questions.filter(model_correct=True).count() == 16
    assert Explanation.objects.filter(condition__key="gradcam").count() == 30
    assert Explanation.objects.filter(condition__key="pv").count() == 30
    assert all(condition.examples.exists() and condition.intro for condition in study.conditions.all())
    researcher = get_user_model().objects.get()
    assert researcher.username == "researcher"
    assert researcher.is_superuser
    assert researcher.check_password("researcher")
    assert "http://127.0.0.1:8000/s/demo/" in first
    assert "http://127.0.0.1:8000/admin/" in first
    assert "researcher / researcher (just created)" in first
    assert "http://0.0.0.0:8123/s/demo/" in second
    assert "already there" in second


def test_by_default_it_renders_the_study_with_networks_it_trains_once(settings, tmp_path: Path) -> None:
    settings.DEBUG = True
    work = tmp_path / "work"  # the tiny budget: networks that learn next to nothing, in seconds

    first = _demo_setup("--budget", "tiny", "--work-dir", str(work))
    trained = {path: path.stat().st_mtime_ns for path in work.rglob("*.pt")}
    Study.objects.all().delete()  # so the second run has to render again
    second = _demo_setup("--budget", "tiny", "--work-dir", str(work))

    study = Study.objects.get()
    asked = study.questions.count()  # the tiny networks are rarely eligible under the paper's rule
    assert study_readiness_problems(study=study) == []
    assert asked == study.selection["picked_correct"] + study.selection["picked_incorrect"] > 0
    assert Explanation.objects.filter(condition__key="gradcam").count() == asked
    assert Explanation.objects.filter(condition__key="pv").count() == asked
    for phase in ("dataset", "classifier", "decoder", "render"):
        assert f"\n{phase}: " in first and f"\n{phase}: done in " in first
    assert "demo_setup --drawn" in first  # how to get a survey in seconds, while it trains
    assert "Demo networks: the classifier (resnet10_w32, 64 px) has val mAP" in first
    assert "\ndataset: " not in second and "\nclassifier: " not in second and "--drawn" not in second
    assert "\nrender: done in " in second and "Demo networks: " in second
    assert len(trained) == 2
    assert {path: path.stat().st_mtime_ns for path in work.rglob("*.pt")} == trained


def test_it_reopens_a_closed_demo_study_without_importing_again(settings) -> None:
    settings.DEBUG = True
    make_study(slug="demo", status=Study.Status.CLOSED, n_correct=1, n_wrong=1)

    _demo_setup()

    assert Study.objects.get().status == Study.Status.OPEN
    assert Question.objects.count() == 2


def test_without_debug_it_makes_no_login_with_a_published_password(settings) -> None:
    settings.DEBUG = False
    make_study(slug="demo", n_correct=1, n_wrong=1)

    output = _demo_setup()

    assert not get_user_model().objects.exists()
    assert "No demo login: DEBUG is off" in output
