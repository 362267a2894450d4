"""Table 1 and the Mann-Whitney tests of the paper, from its own published per-participant scores.

Expected values: shared/reference/README.md (copied with the scores into tests/analysis/data/).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from analysis.report import mean_se
from analysis.responses import responses_read
from analysis.results import AnalysisOptions
from analysis.services import file_results
from tests.analysis.paper import paper_responses_write


@pytest.fixture
def paper_file(tmp_path: Path) -> Path:
    return paper_responses_write(tmp_path / "paper.csv")


def test_the_converted_file_holds_thirty_answers_from_each_of_98_participants(paper_file: Path) -> None:
    responses = responses_read(paper_file)
    assert len(responses) == 98 * 30
    assert responses.groupby("condition")["participant"].nunique().to_dict() == {"gradcam": 58, "pv": 40}


def test_it_reproduces_table_1(paper_file: Path) -> None:
    conditions = file_results(path=paper_file, options=AnalysisOptions()).results["conditions"]
    cells = {
        key: [mean_se(value["incorrect"]), mean_se(value["correct"])] for key, value in conditions.items()
    }
    assert cells == {"gradcam": ["8.3% ± 1.3%", "95.9% ± 0.7%"], "pv": ["35.0% ± 3.0%", "75.5% ± 2.5%"]}
    assert (conditions["gradcam"]["n"], conditions["pv"]["n"]) == (58, 40)


def test_it_reproduces_the_tests_without_continuity_correction(paper_file: Path) -> None:
    tests = file_results(path=paper_file, options=AnalysisOptions()).results["tests"]
    wrong, right = tests["incorrect"], tests["correct"]
    assert (wrong["group"], wrong["alternative"], wrong["u"]) == ("gradcam", "less", 288.5)
    assert round(wrong["z"], 2) == -6.41
    assert f"{wrong['p']:.1e}" == "7.3e-11"
    assert (right["group"], right["alternative"], right["u"]) == ("gradcam", "greater", 2025.5)
    assert round(right["z"], 2) == 6.46
    assert f"{right['p']:.1e}" == "5.2e-11"


def test_with_continuity_correction_the_p_values_are_the_references_other_pair(paper_file: Path) -> None:
    tests = file_results(path=paper_file, options=AnalysisOptions(continuity=True)).results["tests"]
    assert f"{tests['incorrect']['p']:.1e}" == "7.5e-11"
    assert f"{tests['correct']['p']:.1e}" == "5.4e-11"


def test_the_rank_biserial_follows_from_u(paper_file: Path) -> None:
    wrong = file_results(path=paper_file, options=AnalysisOptions()).results["tests"]["incorrect"]
    assert wrong["rank_biserial"] == pytest.approx(2 * 288.5 / (58 * 40) - 1)
    low, high = wrong["rank_biserial_ci"]
    assert low < wrong["rank_biserial"] < high


def test_the_command_prints_the_same_figures_as_json(paper_file: Path) -> None:
    out = io.StringIO()
    call_command("analyze_results", responses=str(paper_file), format="json", stdout=out)
    results = json.loads(out.getvalue())
    assert results["conditions"]["gradcam"]["incorrect"]["mean"] == pytest.approx(0.0825, abs=5e-4)
    assert results["conditions"]["pv"]["correct"]["se"] == pytest.approx(0.0249, abs=5e-4)
    assert results["tests"]["incorrect"]["continuity_correction"] is False
    assert results["tests"]["correct"]["p"] == pytest.approx(5.2e-11, rel=0.01)
    assert results["dropout"] == {
        "gradcam": {"started": 58, "completed": 58, "abandoned": 0, "in_progress": 0},
        "pv": {"started": 40, "completed": 40, "abandoned": 0, "in_progress": 0},
    }
    assert len(results["questions"]) == 30 * 2


def test_the_text_report_lays_out_table_1_as_in_the_paper(paper_file: Path) -> None:
    out = io.StringIO()
    call_command("analyze_results", responses=str(paper_file), stdout=out)
    lines = out.getvalue().splitlines()
    table = next(index for index, line in enumerate(lines) if line.startswith("Table 1."))
    assert lines[table + 2].split() == ["model", "wrong", "model", "right"]
    assert lines[table + 3].split() == ["gradcam", "(n=58)", "8.3%", "±", "1.3%", "95.9%", "±", "0.7%"]
    assert lines[table + 4].split() == ["pv", "(n=40)", "35.0%", "±", "3.0%", "75.5%", "±", "2.5%"]
    assert "U(gradcam) = 288.5, Z = -6.41, one-sided p = 7.3e-11" in out.getvalue()
