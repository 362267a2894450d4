"""Figures: the paper's Figure 6 (for each subset of questions, histograms of participants' accuracy per
condition), the participant flow, and the questions ranked by the difference between two conditions."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.exclusions import RULE_LABELS
from analysis.results import Analysis
from analysis.stats import ALTERNATIVE_SYMBOLS, CHANCE, SUBSET_LABELS, SUBSETS

FILENAMES = {"incorrect": "accuracy_model_wrong.png", "correct": "accuracy_model_right.png"}
FLOW_FILENAME = "participant_flow.png"
ITEMS_FILENAME = "item_ranking.png"
POWER_FILENAME = "power_curve.png"
# The figures of a study's analysis, by the name --figure and the admin use.
FIGURES = ("accuracy", "flow", "items")
FLOW_COLUMN_INCHES = 4.2
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
    return _png(accuracy_histogram(scores, subset=subset, names=names))


def analysis_figures(analysis: Analysis, *, which: Sequence[str] = FIGURES) -> dict[str, bytes]:
    """File name -> PNG of each figure asked for: "accuracy" is Figure 6 (one histogram per subset),
    "flow" the participant flow, "items" the questions ranked by the difference between the conditions."""
    figures = {}
    if "accuracy" in which:
        for subset in SUBSETS:
            png = accuracy_histogram_png(analysis.scores, subset=subset, names=analysis.names)
            figures[FILENAMES[subset]] = png
    if "flow" in which:
        figures[FLOW_FILENAME] = flow_diagram_png(analysis.results["flow"], names=analysis.names)
    if "items" in which:
        figures[ITEMS_FILENAME] = item_ranking_png(analysis.results["items"], names=analysis.names)
    return figures


def figures_write(figures: Mapping[str, bytes], *, directory: str | Path) -> list[Path]:
    """Each PNG under its file name in `directory` (created if missing); returns the paths written."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, png in figures.items():
        path = folder / filename
        path.write_bytes(png)
        paths.append(path)
    return paths


def flow_diagram(flow: dict[str, dict[str, Any]], *, names: dict[str, str]) -> Figure:
    """The participant flow as in a CONSORT diagram: per condition, started (and completed), then the
    participants each rule left out, in a box to the side, then those analysed."""
    figure = Figure(figsize=(FLOW_COLUMN_INCHES * max(len(flow), 1), 4.8), layout="constrained")
    axes = figure.subplots()
    axes.set_axis_off()
    axes.set_xlim(0, len(flow) or 1)
    axes.set_ylim(0, 1)
    figure.suptitle("Participant flow")
    for column, (key, counts) in enumerate(flow.items()):
        _flow_column(axes, column, names.get(key, key), counts)
    if not flow:
        axes.text(0.5, 0.5, "No conditions", ha="center")
    return figure


def _flow_column(axes: Axes, column: int, name: str, counts: dict[str, Any]) -> None:
    centre, side = column + 0.3, column + 0.72
    box = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "black"}
    axes.text(centre, 0.97, name, ha="center", va="top", fontsize=12, fontweight="bold")
    started = f"Started\nn = {counts['started']}\n(completed {counts['completed']})"
    axes.text(centre, 0.78, started, ha="center", va="center", bbox=box)
    excluded = sum(counts["excluded"].values())
    lines = [f"Excluded, n = {excluded}"]
    lines += [f"{RULE_LABELS[rule]}: {count}" for rule, count in counts["excluded"].items()]
    axes.text(
        side, 0.48, "\n".join(lines), ha="center", va="center", multialignment="left", fontsize=8, bbox=box
    )
    axes.text(centre, 0.12, f"Analysed\nn = {counts['analysed']}", ha="center", va="center", bbox=box)
    arrow = {"arrowstyle": "->", "color": "black"}
    axes.annotate("", xy=(centre, 0.2), xytext=(centre, 0.68), arrowprops=arrow)
    axes.annotate("", xy=(side - 0.22, 0.48), xytext=(centre, 0.48), arrowprops=arrow)


def flow_diagram_png(flow: dict[str, dict[str, Any]], *, names: dict[str, str]) -> bytes:
    return _png(flow_diagram(flow, names=names))


def item_ranking(items: dict[str, Any], *, names: dict[str, str]) -> Figure:
    """One row per question, ranked by accuracy in the first compared condition minus the second: each
    condition's accuracy as a dot on its Wilson 95% interval; questions where the model was wrong in bold."""
    pair = items["conditions"] or []
    questions = [question for question in items["questions"] if question["difference"] is not None]
    figure = Figure(figsize=(8, 1.6 + 0.28 * max(len(questions), 1)), layout="constrained")
    axes = figure.subplots()
    positions = np.arange(len(questions))[::-1]  # rank 1 at the top
    for index, key in enumerate(pair):
        _draw_item_condition(axes, questions, positions + (0.15 - 0.3 * index), key, names.get(key, key))
    labels = [f"{question['question']} ({question['difference'] * 100:+.0f})" for question in questions]
    axes.set_yticks(positions, labels)
    for label, question in zip(axes.get_yticklabels(), questions, strict=True):
        label.set_fontweight("normal" if question["model_correct"] else "bold")
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(-1, max(len(questions), 1))
    axes.set_xlabel("Accuracy in guessing the model's prediction (95% Wilson interval)")
    if questions:
        first, second = (names.get(key, key) for key in pair)
        axes.set_title(f"Questions ranked by {first} minus {second} (points); bold: the model was wrong")
        figure.legend(loc="outside lower center", ncols=len(pair))
    else:
        axes.text(0.5, 0, "No question answered in both conditions yet", ha="center")
    return figure


def _draw_item_condition(
    axes: Axes, questions: list[dict[str, Any]], positions: np.ndarray, key: str, name: str
) -> None:
    cells = [question["conditions"][key] for question in questions]
    accuracy = np.array([cell["accuracy"] for cell in cells])
    low = np.array([cell["ci"][0] for cell in cells])
    high = np.array([cell["ci"][1] for cell in cells])
    axes.errorbar(accuracy, positions, xerr=[accuracy - low, high - accuracy], fmt="o", capsize=2, label=name)


def item_ranking_png(items: dict[str, Any], *, names: dict[str, str]) -> bytes:
    return _png(item_ranking(items, names=names))


def power_curve(plan: dict[str, Any], *, names: dict[str, str]) -> Figure:
    """The simulated power at each n per condition, the target, and the smallest n that reaches it."""
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.subplots()
    sizes = [int(n) for n in plan["power"]]
    axes.plot(sizes, [power * 100 for power in plan["power"].values()], marker="o", label="simulated power")
    axes.axhline(plan["target_power"] * 100, color="grey", linestyle="--", label="target")
    if plan["n_per_condition"] is not None:
        axes.axvline(
            plan["n_per_condition"], color="C1", linestyle=":", label=f"n = {plan['n_per_condition']}"
        )
    first, second = (names.get(key, key) for key in plan["conditions"])
    hypothesis = f"Acc({first}) {ALTERNATIVE_SYMBOLS[plan['alternative']]} Acc({second})"
    axes.set_title(f"Power of {hypothesis}, {SUBSET_LABELS[plan['subset']]}, alpha = {plan['alpha']:g}")
    axes.set_xlabel("Participants per condition")
    axes.set_ylabel(f"Power (%), {plan['simulations']} simulated studies each")
    axes.set_ylim(0, 105)
    axes.legend(loc="lower right")
    return figure


def power_curve_png(plan: dict[str, Any], *, names: dict[str, str]) -> bytes:
    return _png(power_curve(plan, names=names))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
