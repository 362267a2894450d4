"""The paper's published per-participant scores as a long-format responses file.

The reference gives only counts (k right of the 14 questions where the model was wrong, j of the 16 where
it was right), so the questions, predictions and wrong answers are invented, consistently: question
q01..q16 are the model's right answers, q17..q30 its wrong ones; a participant answers the first k (or j)
of a subset with the prediction and the rest with another class.
"""

from __future__ import annotations

import csv
from pathlib import Path

from analysis.responses import COLUMNS

DATA = Path(__file__).parent / "data"
PER_PARTICIPANT = DATA / "paper_survey_per_participant.csv"
CLASSES = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow"]
N_RIGHT, N_WRONG = 16, 14


def paper_question(index: int) -> tuple[str, bool, str]:
    """Key, model_correct and prediction of question `index` (0-based)."""
    return f"q{index + 1:02d}", index < N_RIGHT, CLASSES[index % len(CLASSES)]


def paper_rows(group: str, participant: int, wrong_hits: int, right_hits: int) -> list[list[str]]:
    rows = []
    for index in range(N_RIGHT + N_WRONG):
        key, model_correct, prediction = paper_question(index)
        rank = index if model_correct else index - N_RIGHT
        hit = rank < (right_hits if model_correct else wrong_hits)
        answer = prediction if hit else CLASSES[(index + 1) % len(CLASSES)]
        token = f"{group}-{participant:02d}"
        rows.append(
            [
                token,
                group,
                key,
                _bool(model_correct),
                prediction,
                answer,
                _bool(hit),
                str(index + 1),
                str(2000 + index),
            ]
        )
    return rows


def _bool(value: bool) -> str:
    return "true" if value else "false"


def paper_responses_write(path: Path) -> Path:
    with PER_PARTICIPANT.open(newline="") as source, path.open("w", newline="") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in csv.DictReader(source):
            writer.writerows(
                paper_rows(
                    row["group"],
                    int(row["participant_index"]),
                    int(row["correct_when_model_wrong_out_of_14"]),
                    int(row["correct_when_model_right_out_of_16"]),
                )
            )
    return path


PER_QUESTION = DATA / "paper_survey_per_question.csv"
PAPER_GROUP_SIZES = {"gradcam": 58, "pv": 40}


def paper_question_counts() -> list[dict[str, object]]:
    """The per-question file as item counts (analysis.items.COUNT_COLUMNS): every participant of a group
    answered every question; the file gives no predictions and no "I just can't tell" counts."""
    rows = []
    with PER_QUESTION.open(newline="") as source:
        for row in csv.DictReader(source):
            for group, n in PAPER_GROUP_SIZES.items():
                rows.append(
                    {
                        "question": row["question"],
                        "condition": group,
                        "model_correct": row["form_processing_list"] == "correct",
                        "prediction": "",
                        "n": n,
                        "correct": int(row[f"{group}_correct_of_{n}"]),
                        "cant_tell": None,
                    }
                )
    return rows
