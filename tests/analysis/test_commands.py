"""analyze_results and export_responses as a researcher runs them."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from tests.analysis.builders import make_scenario

pytestmark = pytest.mark.django_db


def run(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_the_text_report_shows_table_1_the_tests_dropout_and_questions() -> None:
    report = run("analyze_results", study=make_scenario().slug)
    assert "GRADCAM (n=2)   16.7% ± 16.7%" in report
    assert "model wrong: H1 Acc(GRADCAM) < Acc(PV): U(GRADCAM) = 0" in report
    assert "no continuity correction" in report
    assert "GRADCAM     4         2           2           0" in report
    assert "q004       wrong   " in report


def test_json_options_reach_the_analysis() -> None:
    study = make_scenario()
    results = json.loads(
        run(
            "analyze_results",
            "--format=json",
            "--conditions=pv,gradcam",
            "--alternative-incorrect=two-sided",
            "--min-answers=2",
            "--continuity",
            study=study.slug,
        )
    )
    assert results["options"] == {
        "conditions": ["pv", "gradcam"],
        "alternative_incorrect": "two-sided",
        "alternative_correct": "greater",
        "min_answers": 2,
        "continuity": True,
    }
    assert results["tests"]["incorrect"]["group"] == "pv"
    assert results["tests"]["incorrect"]["continuity_correction"] is True
    assert results["conditions"]["pv"]["n"] == 3


def test_plots_are_readable_pngs(tmp_path: Path) -> None:
    run("analyze_results", study=make_scenario().slug, plots=str(tmp_path / "figures"), figure=["accuracy"])
    paths = sorted((tmp_path / "figures").iterdir())
    assert [path.name for path in paths] == ["accuracy_model_right.png", "accuracy_model_wrong.png"]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (800, 450)
            # Bars in two colours, text and axes: far more than a blank canvas's one colour.
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16)) > 50


def test_an_unknown_study_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No study with slug 'nope'"):
        run("analyze_results", study="nope")
    with pytest.raises(CommandError, match="No study with slug 'nope'"):
        run("export_responses", "nope", "out.csv")


def test_a_malformed_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("participant,condition\n")
    with pytest.raises(CommandError, match=r"^line 1, column 3: expected 'question', got nothing;"):
        run("analyze_results", responses=str(path))


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv: No such file"):
        run("analyze_results", responses=str(tmp_path / "missing.csv"))


def test_plots_that_cannot_be_written_name_the_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    study = make_scenario()
    with pytest.raises(CommandError, match=r"^Cannot write the plots to .*a-file/figures: Not a directory$"):
        run("analyze_results", study=study.slug, plots=str(blocker / "figures"))
    with pytest.raises(CommandError, match=r"^Cannot write the plots to /proc/nope: "):
        run("analyze_results", study=study.slug, plots="/proc/nope")


def test_conditions_must_be_two_keys() -> None:
    with pytest.raises(CommandError, match="--conditions takes two condition keys"):
        run("analyze_results", study="any", conditions="gradcam")


def test_export_writes_one_row_per_answer_with_the_documented_columns(tmp_path: Path) -> None:
    study = make_scenario()
    path = tmp_path / "responses.csv"
    run("export_responses", study.slug, str(path))
    lines = path.read_text().splitlines()
    assert (
        lines[0]
        == "participant,condition,question,model_correct,prediction,answer,is_correct,position,response_ms"
    )
    assert len(lines) == 1 + 31
    assert run("export_responses", study.slug, "-") == path.read_text()


def test_an_export_is_readable_by_others_and_holds_no_tokens(tmp_path: Path) -> None:
    study = make_scenario()
    path = tmp_path / "responses.csv"
    run("export_responses", study.slug, str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    exported = path.read_text()
    assert not [token for token in study.participants.values_list("token", flat=True) if token in exported]


def test_a_failed_export_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    path = folder / "responses.csv"
    path.write_text("precious\n")
    with pytest.raises(CommandError, match="No study"):
        run("export_responses", "nope", str(path))
    with pytest.raises(CommandError, match="Cannot write"):
        run("export_responses", make_scenario().slug, str(folder / "no-such-dir" / "out.csv"))
    assert path.read_text() == "precious\n"
    assert [p.name for p in folder.iterdir()] == ["responses.csv"]


def test_an_export_replaces_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    path.write_text("old\n")
    run("export_responses", make_scenario().slug, str(path))
    assert path.read_text().startswith("participant,condition,")
