"""Figure 6: histograms of participants' accuracy, one bar per condition at each attainable score."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.colors import to_rgb
from PIL import Image

from analysis.plots import accuracy_histogram_png


def scores(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """(participant, condition, answers, correct) in the "incorrect" subset, as stats.participant_scores."""
    frame = pd.DataFrame(rows, columns=["participant", "condition", "answers", "correct"])
    return frame.assign(subset="incorrect", cant_tell=0, accuracy=frame["correct"] / frame["answers"])


def colours(png: bytes) -> set[tuple[int, int, int]]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 16)}


def test_figure_6_draws_a_bar_colour_for_each_of_three_conditions() -> None:
    frame = scores([("a", "gradcam", 3, 0), ("b", "pv", 3, 2), ("c", "none", 3, 1), ("d", "none", 3, 3)])
    png = accuracy_histogram_png(frame, subset="incorrect", names={"gradcam": "G", "pv": "P", "none": "N"})
    drawn = colours(png)
    # matplotlib's first three cycle colours, solid inside each bar.
    for name in ("C0", "C1", "C2"):
        assert tuple(round(channel * 255) for channel in to_rgb(name)) in drawn


def test_figure_6_with_more_conditions_than_a_legend_row_holds_still_renders() -> None:
    names = {f"m{index}": f"Method {index}" for index in range(6)}
    frame = scores([(f"p{index}", key, 4, index % 5) for index, key in enumerate(names)])
    drawn = colours(accuracy_histogram_png(frame, subset="incorrect", names=names))
    assert tuple(round(channel * 255) for channel in to_rgb("C5")) in drawn
