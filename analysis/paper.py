"""The paper's published per-participant scores, shipped with the package (analysis/data/README.md says
where they come from), as a pilot for planning a study's sample size."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pandas as pd

PER_PARTICIPANT = "paper_survey_per_participant.csv"
# Questions per subset in the paper's survey: 14 where the model was wrong, 16 where it was right.
QUESTIONS = {"incorrect": 14, "correct": 16}
COLUMNS = {"incorrect": "correct_when_model_wrong_out_of_14", "correct": "correct_when_model_right_out_of_16"}
NAMES = {"gradcam": "Grad-CAM", "pv": "PV"}


def paper_scores() -> pd.DataFrame:
    """One row per participant and subset, as stats.participant_scores gives them: participant, condition,
    subset, answers, correct, cant_tell (not published: 0) and accuracy."""
    text = resources.files("analysis").joinpath("data", PER_PARTICIPANT).read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        for subset, column in COLUMNS.items():
            participant = f"{row['group']}-{int(row['participant_index']):02d}"
            correct = int(row[column])
            rows.append((participant, row["group"], subset, QUESTIONS[subset], correct, 0))
    scores = pd.DataFrame(
        rows, columns=["participant", "condition", "subset", "answers", "correct", "cant_tell"]
    )
    return scores.assign(accuracy=scores["correct"] / scores["answers"])
