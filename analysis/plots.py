"""Figure 6 of the paper: for each subset of questions, histograms of participants' accuracy per condition."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.stats import CHANCE, SUBSET_LABELS, SUBSETS

FILENAMES = {"incorrect": "accuracy_model_wrong.png", "correct": "accuracy_model_right.png"}
# Legend entries per row: more than this overflow the figure's 8 inches; further rows get more headroom.
LEGEND_COLUMNS = 4


def accuracy_histogram(scores: pd.DataFrame, *, subset: str, names: dict[str, str]) -> Figure:
    """Side-by-side bars, one per condition, of the share of participants at each accuracy."""
    rows = scores[scores["subset"] == subset]
    questions = int(rows["answers"].max()) if len(rows) else 1  # the bin count; 1 draws nothing
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.subplots()
    tallest = _draw_bars(axes, rows, names=names, questions=questions)
    axes.axvline(CHANCE * 100, color="grey", linestyle="--", linewidth=1, label="chance")
    counted = "" if rows.empty else f" ({questions} questions)"
    axes.set_title(f"Participants' accuracy, {SUBSET_LABELS[subset]}{counted}")
    axes.set_xlabel("Accuracy in guessing the model's prediction (%)")
    axes.set_ylabel("Participants (%)")
    margin = 2 if rows.empty else 50 / questions + 2
    axes.set_xlim(-margin, 100 + margin)
    legend_rows = math.ceil((len(names) + 1) / LEGEND_COLUMNS)  # the conditions and chance
    axes.set_ylim(0, max(tallest, 10) * (1.15 + 0.15 * legend_rows))  # headroom for the legend
    if rows.empty:
        axes.text(50, 0.5, "No participants yet", ha="center", transform=axes.get_xaxis_transform())
    else:
        axes.legend(loc="upper center", ncols=min(len(names) + 1, LEGEND_COLUMNS))
    return figure


def _draw_bars(axes: Axes, rows: pd.DataFrame, *, names: dict[str, str], questions: int) -> float:
    """One bar per condition at each attainable score k/questions; returns the tallest, in percent."""
    edges = (np.arange(questions + 2) - 0.5) / questions
    centres = np.arange(questions + 1) / questions * 100
    width = 100 / questions / (len(names) + 1)
    tallest = 0.0
    for index, (key, name) in enumerate(names.items()):
        accuracy = rows.loc[rows["condition"] == key, "accuracy"].to_numpy()
        counts, _ = np.histogram(accuracy, bins=edges)
        share = counts / len(accuracy) * 100 if len(accuracy) else counts.astype(float)
        offset = (index - (len(names) - 1) / 2) * width
        axes.bar(centres + offset, share, width=width, label=f"{name} (n={len(accuracy)})")
        tallest = max(tallest, float(share.max()))
    return tallest


def accuracy_histogram_png(scores: pd.DataFrame, *, subset: str, names: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    accuracy_histogram(scores, subset=subset, names=names).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def figures_write(scores: pd.DataFrame, *, names: dict[str, str], directory: str | Path) -> list[Path]:
    """One PNG per subset in `directory` (created if missing); returns the paths written."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for subset in SUBSETS:
        path = folder / FILENAMES[subset]
        path.write_bytes(accuracy_histogram_png(scores, subset=subset, names=names))
        paths.append(path)
    return paths
