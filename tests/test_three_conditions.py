"""A study with three conditions, from the bundle writer through the survey to the analysis.

The omnibus and pairwise figures are checked against values computed here, independently, from the
per-participant accuracies the test itself decided.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis.results import AnalysisOptions
from analysis.services import study_results
from explainers.methods import methods_parse
from explainers.nn.labels import VOC_CLASSES
from survey.models import Participant
from survey.services.bundle_spec import BundleSpec, ConditionSpec, QuestionSpec, bundle_json_write
from survey.services.bundles import study_import_bundle
from survey.services.participants import answer_submit, participant_start
from survey.services.questions import Completed, participant_current_question
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db
METHODS = ("gradcam", "pv", "none")
# Which questions (img0, img1: the model right; img2, img3: wrong) each participant answers right, per
# condition, in the order they start.
RIGHT = {
    "gradcam": [{0}, {0, 2}, {1, 3}, {0, 1, 2}],
    "pv": [{0, 1, 2}, {0, 1, 2, 3}, {0, 1, 3}, {1, 2, 3}],
    "none": [set(), {2}, {3}, {0, 3}],
}


def picture(path: Path, shade: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes((shade, 100, 200 - shade)))
    return path


def three_condition_bundle(root: Path) -> Path:
    """Four questions, the model right on two (it names the cat) and wrong on two (it says dog)."""
    questions = []
    for n in range(4):
        right = n < 2
        key = f"img{n}"
        questions.append(
            QuestionSpec(
                key=key,
                image=picture(root / f"images/{key}.png", 40 * n),
                labels=("cat",),
                prediction="cat" if right else "dog",
                model_correct=right,
                options=("cat", "dog", "sofa", "chair"),
                explanations={
                    m: picture(root / f"explanations/{key}_{m}.png", 40 * n + i)
                    for i, m in enumerate(METHODS)
                },
                prediction_set=("cat",) if right else ("dog",),
            )
        )
    conditions = tuple(
        ConditionSpec(key=m.key, name=m.name, intro=m.introduction) for m in methods_parse(METHODS)
    )
    spec = BundleSpec(
        directory=root,
        slug="three",
        name="Three conditions",
        classes=VOC_CLASSES,
        conditions=conditions,
        questions=tuple(questions),
        completion_code="DONE",
    )
    return bundle_json_write(spec=spec)


def take_the_survey(participant: Participant, right: set[int]) -> dict[str, list[bool]]:
    """Answer every question through the survey's services, in the participant's own order, those whose
    number is in ``right`` correctly."""
    answered: dict[str, list[bool]] = {"correct": [], "incorrect": []}
    while not isinstance(current := participant_current_question(participant=participant), Completed):
        question = current.question
        correct = int(question.key.removeprefix("img")) in right
        wrong_choice = next(o for o in question.options if o != question.prediction)
        option = question.prediction if correct else wrong_choice
        answer_submit(participant=participant, question_id=question.pk, option=option)
        answered["correct" if question.model_correct else "incorrect"].append(correct)
    return answered


def test_a_three_condition_study_runs_from_bundle_to_omnibus_and_holm_corrected_pairs(tmp_path: Path) -> None:
    study = study_import_bundle(directory=three_condition_bundle(tmp_path / "bundle"), open_study=True)
    accuracy: dict[str, dict[str, list[float]]] = {m: {"correct": [], "incorrect": []} for m in METHODS}
    turns = {m: 0 for m in METHODS}
    for _ in range(12):  # round robin: four participants per condition
        participant = participant_start(study=study)
        key = participant.condition.key
        answered = take_the_survey(participant, RIGHT[key][turns[key]])
        turns[key] += 1
        for subset, hits in answered.items():
            accuracy[key][subset].append(float(np.mean(hits)))

    # The normal approximation, as the expected p below: the default is exact below 20 per group.
    results = study_results(study=study, options=AnalysisOptions(p_method="normal")).results

    assert list(results["conditions"]) == list(METHODS)  # Table 1 has every condition, in the study's order
    for subset in ("correct", "incorrect"):
        groups = [accuracy[m][subset] for m in METHODS]
        expected = stats.kruskal(*groups)
        omnibus = results["omnibus"][subset]
        assert omnibus["conditions"] == list(METHODS)
        assert omnibus["h"] == pytest.approx(expected.statistic)
        assert omnibus["p"] == pytest.approx(expected.pvalue)
        pairs = [p for p in results["pairwise"] if p["subset"] == subset]
        assert [(p["a"], p["b"]) for p in pairs] == list(combinations(METHODS, 2))
        raw = [
            stats.mannwhitneyu(
                accuracy[a][subset],
                accuracy[b][subset],
                alternative="two-sided",
                method="asymptotic",
                use_continuity=False,
            )
            for a, b in combinations(METHODS, 2)
        ]
        for pair, test in zip(pairs, raw, strict=True):
            assert pair["u"] == pytest.approx(test.statistic)
            assert pair["p"] == pytest.approx(test.pvalue)
        holm = holm_by_hand([pair["p"] for pair in pairs])
        assert [pair["p_holm"] for pair in pairs] == pytest.approx(holm)


def holm_by_hand(p: list[float]) -> list[float]:
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted
