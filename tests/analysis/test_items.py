"""Item analysis: the paper's per-question table reproduced, Wilson intervals, and the ranking by the
difference between the conditions in the report, the figure and the admin."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image
from statsmodels.stats.proportion import proportion_confint

from analysis.items import item_analysis, item_counts, wilson_interval
from analysis.plots import item_ranking_png
from analysis.responses import responses_frame
from tests.analysis.builders import make_scenario
from tests.analysis.paper import PAPER_GROUP_SIZES, paper_question_counts

QUESTIONS = [str(index) for index in range(1, 31)]


@pytest.fixture(scope="module")
def paper_items() -> dict:
    counts = pd.DataFrame(paper_question_counts())
    return item_analysis(
        counts, question_order=QUESTIONS, conditions=["gradcam", "pv"], pair=("gradcam", "pv")
    )


def test_the_paper_file_reads_as_the_totals_its_readme_states() -> None:
    counts = pd.DataFrame(paper_question_counts())
    assert counts.groupby("condition")["correct"].sum().to_dict() == {"gradcam": 922, "pv": 696}


def test_the_item_analysis_gives_the_papers_per_question_accuracies(paper_items: dict) -> None:
    by_question = {row["question"]: row for row in paper_items["questions"]}
    assert sorted(by_question, key=int) == QUESTIONS
    for count in paper_question_counts():
        cell = by_question[count["question"]]["conditions"][count["condition"]]
        assert (cell["n"], cell["correct"]) == (count["n"], count["correct"])
        if (count["question"], count["condition"]) == ("24", "pv"):
            continue  # the file's known defect, below
        assert cell["accuracy"] == count["correct"] / PAPER_GROUP_SIZES[count["condition"]]
        assert cell["cant_tell_share"] is None  # the file does not say
    # Spot checks against the file as printed: question 2, 0 of 58 and 10 of 40; question 21, 58 and 19.
    assert by_question["2"]["conditions"]["pv"]["accuracy"] == 0.25
    assert by_question["21"]["difference"] == pytest.approx(1 - 19 / 40)


def test_question_24s_41_correct_out_of_40_is_flagged_not_reported(paper_items: dict) -> None:
    question = next(row for row in paper_items["questions"] if row["question"] == "24")
    cell = question["conditions"]["pv"]
    assert (cell["accuracy"], cell["ci"]) == (None, None)
    assert cell["message"] == "41 correct out of 40 answers: impossible counts, left out."
    assert question["difference"] is None
    assert question["rank"] == 30  # without a difference it ranks last
    assert question["conditions"]["gradcam"]["accuracy"] == 1.0


def test_the_questions_rank_by_gradcam_minus_pv_accuracy(paper_items: dict) -> None:
    counts = pd.DataFrame(paper_question_counts())
    accuracy = counts.assign(accuracy=counts["correct"] / counts["n"]).pivot(
        index="question", columns="condition", values="accuracy"
    )
    expected = (accuracy["gradcam"] - accuracy["pv"]).drop("24").sort_values(ascending=False, kind="stable")
    ranked = [row["question"] for row in paper_items["questions"]]
    assert ranked[:-1] == list(expected.index)
    assert (ranked[0], ranked[-2]) == ("21", "3")  # 58/58 - 19/40 at the top; 3/58 - 36/40 at the bottom
    assert [row["rank"] for row in paper_items["questions"]] == list(range(1, 31))


def test_wilson_intervals_match_statsmodels() -> None:
    for correct, n in [(0, 58), (3, 58), (57, 58), (58, 58), (10, 40), (1, 1)]:
        expected = proportion_confint(correct, n, alpha=0.05, method="wilson")
        assert wilson_interval(correct, n) == pytest.approx(expected, abs=1e-12)


def test_wilson_refuses_counts_that_are_no_proportion() -> None:
    with pytest.raises(ValueError, match="0 <= correct <= n"):
        wilson_interval(41, 40)


def test_counts_from_answers_give_accuracy_and_the_share_of_cant_tell() -> None:
    rows = [
        ("a", "gradcam", "q1", False, "cat", "cat", True, 1, 900),
        ("b", "gradcam", "q1", False, "cat", "cant_tell", False, 1, 900),
        ("c", "gradcam", "q1", False, "cat", "dog", False, 1, 900),
        ("d", "pv", "q1", False, "cat", "cat", True, 1, 900),
    ]
    counts = item_counts(responses_frame(rows))
    items = item_analysis(counts, question_order=["q1"], conditions=["gradcam", "pv"], pair=("gradcam", "pv"))
    (question,) = items["questions"]
    gradcam = question["conditions"]["gradcam"]
    assert (gradcam["n"], gradcam["correct"], gradcam["accuracy"]) == (3, 1, 1 / 3)
    assert gradcam["cant_tell_share"] == pytest.approx(1 / 3)
    assert gradcam["ci"] == pytest.approx(list(proportion_confint(1, 3, method="wilson")))
    assert question["difference"] == pytest.approx(1 / 3 - 1)


def test_the_ranking_figure_draws_a_row_per_question(paper_items: dict) -> None:
    png = item_ranking_png(paper_items, names={"gradcam": "Grad-CAM", "pv": "PV"})
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (800, round(100 * (1.6 + 0.28 * 29)))  # q24 has no difference to draw


@pytest.mark.django_db
def test_the_report_and_the_json_carry_the_item_analysis() -> None:
    study = make_scenario()
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, format="json", stdout=out)
    items = json.loads(out.getvalue())["items"]
    assert items["conditions"] == ["gradcam", "pv"]
    # q005: gradcam 0 of 2 (one "I just can't tell"), pv 2 of 2: the largest gap against gradcam.
    last = items["questions"][-1]
    assert (last["question"], last["difference"]) == ("q005", -1.0)
    assert last["conditions"]["gradcam"]["cant_tell_share"] == 0.5
    text = io.StringIO()
    call_command("analyze_results", study=study.slug, stdout=text)
    assert "Item analysis (accuracy with its Wilson 95% interval), questions ranked by" in text.getvalue()
    row = next(line for line in text.getvalue().splitlines() if line.startswith("7 "))
    assert row.split()[:4] == ["7", "q005", "wrong", "bus"]
    assert row.split()[-1] == "-100.0"


@pytest.mark.django_db
def test_the_admin_shows_the_ranking_figure_and_each_questions_thumbnail(admin_client: Client) -> None:
    study = make_scenario()
    page = admin_client.get(f"/admin/analysis/study/{study.slug}/results/").content.decode()
    question = study.questions.get(key="q005")
    assert f'<img src="{question.image.url}" alt="q005"' in page
    figure = admin_client.get(f"/admin/analysis/study/{study.slug}/figures/items.png")
    assert (figure.status_code, figure["Content-Type"]) == (200, "image/png")
    assert f'src="/admin/analysis/study/{study.slug}/figures/items.png?' in page
