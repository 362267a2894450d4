"""Exclusion rules and the participant flow: each rule on its own, each reported, and the counts adding up."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image

from analysis.exclusions import RULES, ExclusionRules, exclusions_apply
from analysis.responses import responses_frame
from analysis.results import AnalysisOptions, results_compute
from analysis.services import study_participants, study_results
from survey.models import Answer, ExtraQuestion, Participant
from tests.analysis.builders import make_scenario, take_part
from tests.factories import make_study


def answers(participant: str, condition: str, *, right: int, wrong: int, ms: int = 2000) -> list[tuple]:
    """One answer per question: `right` where the model was right (q1..), `wrong` where it was wrong."""
    rows = []
    for index in range(right + wrong):
        model_correct = index < right
        question = f"q{index + 1}"
        rows.append((participant, condition, question, model_correct, "cat", "cat", True, index + 1, ms))
    return rows


def frames(people: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responses (2 + 2 answers each, or `right`/`wrong` given) and the participants frame."""
    responses = responses_frame(
        row
        for person in people
        for row in answers(
            person["participant"],
            person["condition"],
            right=person.get("right", 2),
            wrong=person.get("wrong", 2),
            ms=person.get("ms", 2000),
        )
    )
    columns = ["participant", "condition", "status", "is_pilot", "is_preview", "attention_failed"]
    participants = pd.DataFrame([{key: person.get(key) for key in columns} for person in people])
    return responses, participants.dropna(axis="columns", how="all")


def person(name: str, condition: str = "gradcam", status: str = "completed", **flags: object) -> dict:
    return {"participant": name, "condition": condition, "status": status, **flags}


def reasons(people: list[dict], rules: ExclusionRules | None = None) -> dict[str, str | None]:
    responses, participants = frames(people)
    applied = exclusions_apply(
        responses, participants, rules or ExclusionRules(), conditions=["gradcam", "pv"]
    )
    return applied.reasons.where(applied.reasons.notna(), None).to_dict()


def test_pilot_and_preview_participants_are_left_out() -> None:
    people = [person("a", is_pilot=True), person("b", is_preview=True), person("c", is_pilot=False)]
    assert reasons(people) == {"a": "pilot_preview", "b": "pilot_preview", "c": None}
    assert reasons(people, ExclusionRules(pilots=False)) == {"a": None, "b": None, "c": None}


def test_a_failed_attention_check_leaves_a_participant_out() -> None:
    people = [person("a", attention_failed=True), person("b", attention_failed=False), person("c")]
    assert reasons(people) == {"a": "attention", "b": None, "c": None}
    assert reasons(people, ExclusionRules(attention=False))["a"] is None


def test_too_fast_is_a_median_response_time_under_the_threshold() -> None:
    people = [person("a", ms=799), person("b", ms=800), person("c", ms=5000)]
    assert reasons(people, ExclusionRules(min_median_ms=800)) == {"a": "too_fast", "b": None, "c": None}
    assert reasons(people) == {"a": None, "b": None, "c": None}  # off unless a threshold is set


def test_unfinished_participants_are_left_out_unless_they_gave_enough_answers_in_a_subset() -> None:
    people = [
        person("a", status="abandoned", right=3, wrong=0),
        person("b", status="in_progress", right=1, wrong=1),
        person("c"),
    ]
    assert reasons(people) == {"a": "incomplete", "b": "incomplete", "c": None}
    assert reasons(people, ExclusionRules(min_answers=2)) == {"a": None, "b": "incomplete", "c": None}


def test_a_participant_is_counted_once_at_the_first_rule_that_leaves_them_out() -> None:
    people = [person("a", status="abandoned", is_pilot=True, attention_failed=True, ms=10)]
    assert reasons(people, ExclusionRules(min_median_ms=100)) == {"a": "pilot_preview"}
    assert reasons(people, ExclusionRules(pilots=False, min_median_ms=100)) == {"a": "incomplete"}


def test_the_flow_adds_up_for_every_condition() -> None:
    people = [
        person("a", is_pilot=True),
        person("b", status="abandoned"),
        person("c", attention_failed=True),
        person("d", ms=100),
        person("e"),
        person("f", "pv", is_preview=True, attention_failed=True),
        person("g", "pv", status="in_progress", attention_failed=True),
        person("h", "pv", attention_failed=False),
    ]
    responses, participants = frames(people)
    applied = exclusions_apply(
        responses, participants, ExclusionRules(min_median_ms=500), conditions=["gradcam", "pv"]
    )
    assert applied.flow == {
        "gradcam": {
            "started": 5,
            "completed": 4,
            "excluded": {"pilot_preview": 1, "incomplete": 1, "attention": 1, "too_fast": 1},
            "analysed": 1,
        },
        "pv": {
            "started": 3,
            "completed": 2,
            "excluded": {"pilot_preview": 1, "incomplete": 1, "attention": 0, "too_fast": 0},
            "analysed": 1,
        },
    }
    for counts in applied.flow.values():
        assert counts["started"] == counts["analysed"] + sum(counts["excluded"].values())
    assert [rule["excluded"] for rule in applied.rules] == [2, 2, 1, 1]
    assert applied.analysed == ["e", "h"]


def test_each_rule_is_reported_and_says_when_the_study_records_nothing_for_it() -> None:
    responses, participants = frames([person("a")])
    rules = exclusions_apply(responses, participants, ExclusionRules(), conditions=["gradcam"]).rules
    assert [rule["rule"] for rule in rules] == list(RULES)
    notes = {rule["rule"]: (rule["applies"], rule["excluded"], rule["note"]) for rule in rules}
    assert notes == {
        "pilot_preview": (True, 0, "No pilot or preview participants in this study."),
        "incomplete": (True, 0, "Only participants who completed the study count."),
        "attention": (True, 0, "No attention checks in this study."),
        "too_fast": (False, 0, "Off: no minimum median response time is set."),
    }


def test_excluded_participants_leave_table_1_and_the_tests() -> None:
    responses, participants = frames(
        [person("a", right=2, wrong=2), person("b", attention_failed=True), person("c", "pv")]
    )
    results = results_compute(
        responses=responses,
        participants=participants,
        names={"gradcam": "G", "pv": "P"},
        question_order=["q1", "q2", "q3", "q4"],
        dropout={
            key: {"started": 0, "completed": 0, "abandoned": 0, "in_progress": 0} for key in ["gradcam", "pv"]
        },
        options=AnalysisOptions(mixed_model=False),
    ).results
    assert results["conditions"]["gradcam"]["n"] == 1
    assert results["tests"]["incorrect"]["n"] == {"gradcam": 1, "pv": 1}
    assert results["flow"]["gradcam"]["excluded"]["attention"] == 1


@pytest.mark.django_db
def test_a_study_without_attention_checks_says_so_and_reads_the_pilot_flag() -> None:
    study = make_scenario()
    assert list(study_participants(study=study).columns) == ["participant", "condition", "status", "is_pilot"]
    results = study_results(study=study, options=AnalysisOptions()).results
    attention = next(rule for rule in results["exclusions"] if rule["rule"] == "attention")
    assert (attention["excluded"], attention["note"]) == (0, "No attention checks in this study.")
    assert results["flow"]["gradcam"] == {
        "started": 4,
        "completed": 2,
        "excluded": {"pilot_preview": 0, "incomplete": 2, "attention": 0, "too_fast": 0},
        "analysed": 2,
    }


@pytest.mark.django_db
def test_the_command_and_the_api_leave_out_a_participant_who_answered_too_fast(admin_client: Client) -> None:
    study = make_study(slug="hasty", n_correct=2, n_wrong=2)
    take_part(study, "gradcam", wrong_hits=0, right_hits=2)
    hasty = take_part(study, "gradcam", wrong_hits=2, right_hits=2)
    take_part(study, "pv", wrong_hits=2, right_hits=1)
    Answer.objects.filter(participant=hasty).update(response_ms=300)
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, format="json", min_median_ms=500, stdout=out)
    results = json.loads(out.getvalue())
    assert results["flow"]["gradcam"]["excluded"]["too_fast"] == 1
    assert results["conditions"]["gradcam"]["n"] == 1
    text = io.StringIO()
    call_command("analyze_results", study=study.slug, min_median_ms=500, stdout=text)
    assert "excluded: too fast (median response time)   1         0" in text.getvalue()
    assert "Left out when the median response time is under 500 ms." in text.getvalue()
    api = admin_client.get(f"/api/studies/{study.slug}/results/", {"min_median_ms": 500})
    assert api.json() == results


@pytest.mark.django_db
def test_plots_include_the_flow_diagram(tmp_path: Path) -> None:
    call_command(
        "analyze_results",
        study=make_scenario().slug,
        plots=str(tmp_path),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert {path.name for path in tmp_path.iterdir()} >= {"participant_flow.png", "accuracy_model_wrong.png"}
    with Image.open(tmp_path / "participant_flow.png") as image:
        assert image.format == "PNG"
        assert image.size == (2 * 420, 480)  # one column per condition


@pytest.mark.django_db
def test_the_admin_page_opens_with_the_flow_table_and_its_figure(admin_client: Client) -> None:
    study = make_scenario()
    page = admin_client.get(f"/admin/analysis/study/{study.slug}/results/", {"min_median_ms": 900})
    html = page.content.decode()
    assert html.index("<h2>Participant flow</h2>") < html.index("<h2>Table 1.")
    assert '<th scope="row">excluded: did not complete</th><td>2</td><td>1</td>' in html
    assert "too fast (median response time): Left out when the median response time is under 900 ms." in html
    figure = f"/admin/analysis/study/{study.slug}/figures/flow.png?min_median_ms=900"
    assert f'src="{figure}"' in html
    response = admin_client.get(figure)
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response.content.startswith(b"\x89PNG")
    assert admin_client.get(f"/admin/analysis/study/{study.slug}/figures/nope.png").status_code == 404


@pytest.mark.django_db
def test_pilot_participants_and_failed_attention_checks_recorded_by_the_survey_are_left_out_by_default() -> (
    None
):
    study = make_study(slug="screened", n_correct=2, n_wrong=2)
    ExtraQuestion.objects.create(
        study=study, role=ExtraQuestion.Role.ATTENTION, key="check", options=["cat", "dog", "sofa", "chair"],
        answer="cant_tell",
    )  # fmt: skip
    kept = take_part(study, "gradcam", wrong_hits=1, right_hits=2)
    pilot = take_part(study, "gradcam", wrong_hits=2, right_hits=2)
    careless = take_part(study, "pv", wrong_hits=0, right_hits=0)
    Participant.objects.filter(pk=pilot.pk).update(is_pilot=True)
    Participant.objects.filter(pk=careless.pk).update(attention_failures=2, attention_failed=True)

    results = study_results(study=study, options=AnalysisOptions()).results

    assert results["flow"]["gradcam"]["excluded"]["pilot_preview"] == 1
    assert results["flow"]["pv"]["excluded"]["attention"] == 1
    assert results["flow"]["gradcam"]["analysed"] == 1 and results["flow"]["pv"]["analysed"] == 0
    assert results["conditions"]["gradcam"]["incorrect"]["n"] == 1
    assert kept.pk not in {pilot.pk, careless.pk}
