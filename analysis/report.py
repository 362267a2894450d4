"""Results as readable text: rows shared by the command's report and the admin page, and the report itself."""

from __future__ import annotations

from typing import Any

from analysis.exclusions import RULE_LABELS, RULES
from analysis.stats import ALTERNATIVE_SYMBOLS, CHANCE, SUBSET_LABELS, SUBSETS

_SIDED = {"less": "one-sided", "greater": "one-sided", "two-sided": "two-sided"}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def mean_se(summary: dict[str, Any]) -> str:
    """A Table 1 cell: "8.3% ± 1.3%"."""
    if summary["se"] is None:
        return percent(summary["mean"])
    return f"{percent(summary['mean'])} ± {percent(summary['se'])}"


def _name(results: dict[str, Any], key: str) -> str:
    return results["conditions"][key]["name"]


def table1_rows(results: dict[str, Any]) -> list[list[str]]:
    """Header, one row per condition, then chance: as Table 1 of the paper."""
    rows = [["", *(SUBSET_LABELS[subset] for subset in SUBSETS)]]
    for condition in results["conditions"].values():
        label = f"{condition['name']} (n={condition['n']})"
        rows.append([label, *(mean_se(condition[subset]) for subset in SUBSETS)])
    return [*rows, ["Chance", *(percent(CHANCE) for _ in SUBSETS)]]


def detail_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = [["condition", "subset", "n", "median", '"I just can\'t tell"']]
    for condition in results["conditions"].values():
        for subset in SUBSETS:
            summary = condition[subset]
            cells = [str(summary["n"]), percent(summary["median"]), percent(summary["cant_tell_share"])]
            rows.append([condition["name"], SUBSET_LABELS[subset], *cells])
    return rows


def test_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for subset, test in results["tests"].items():
        group, other = _name(results, test["group"]), _name(results, test["other"])
        hypothesis = f"H1 Acc({group}) {ALTERNATIVE_SYMBOLS[test['alternative']]} Acc({other})"
        lines.append(f"{SUBSET_LABELS[subset]}: {hypothesis}: {_test_figures(test, group)}")
    return lines


def _test_figures(test: dict[str, Any], group: str) -> str:
    if test["u"] is None:
        return test["message"]
    lo, hi = test["rank_biserial_ci"]
    figures = f"U({group}) = {test['u']:g}"
    if test["z"] is not None:
        exact = "exact " if test["method"] == "exact" else ""
        figures += f", Z = {test['z']:.2f}, {exact}{_SIDED[test['alternative']]} p = {test['p']:.2g}"
    figures += f", rank-biserial r = {test['rank_biserial']:.2f} (95% CI {lo:.2f} to {hi:.2f})"
    low, high = test["bootstrap_ci"]
    figures += (
        f"; difference in mean accuracy {points(test['mean_difference'])} points "
        f"(95% bootstrap CI {points(low)} to {points(high)})"
    )
    return figures if test["message"] is None else f"{figures}. {test['message']}"


def points(value: float) -> str:
    """A difference of two proportions in percentage points: "+26.7"."""
    return f"{value * 100:+.1f}"


def tests_heading(results: dict[str, Any]) -> str:
    """Which p the tests report: the normal approximation, or exact where a line says so."""
    continuity = "with" if results["options"]["continuity"] else "no"
    methods = {test["method"] for test in results["tests"].values()}
    methods |= {pair["method"] for pair in results["pairwise"]} if shows_every_pair(results) else set()
    if "exact" not in methods:
        return f"normal approximation, tie-corrected, {continuity} continuity correction"
    return (
        "p exact by permutation where it says so, else by the normal approximation; "
        f"Z tie-corrected, {continuity} continuity correction"
    )


def flow_rows(results: dict[str, Any]) -> list[list[str]]:
    """The participant flow, one column per condition: started, completed, each exclusion, analysed."""
    flow = results["flow"]
    rows = [["", *(_name(results, key) for key in flow)]]
    rows.append(["started", *(str(counts["started"]) for counts in flow.values())])
    rows.append(["completed", *(str(counts["completed"]) for counts in flow.values())])
    for rule in RULES:
        excluded = [str(counts["excluded"][rule]) for counts in flow.values()]
        rows.append([f"excluded: {RULE_LABELS[rule]}", *excluded])
    return [*rows, ["analysed", *(str(counts["analysed"]) for counts in flow.values())]]


def exclusion_lines(results: dict[str, Any]) -> list[str]:
    return [f"{rule['label']}: {rule['note']}" for rule in results["exclusions"]]


def mixed_model_lines(results: dict[str, Any]) -> list[str]:
    """The pair's odds ratio per subset, their ratio, the random-effect SDs; or why there is no model."""
    model = results["mixed_model"]
    if not model["fixed_effects"]:
        return [model["message"]]
    group, reference = _name(results, model["group"]), _name(results, model["reference"])
    n = model["n"]
    lines = [f"{n['answers']} answers of {n['participants']} participants to {n['questions']} questions."]
    for contrast in model["contrasts"]:
        label = f"{SUBSET_LABELS[contrast['subset']]}: odds ratio {group} / {reference}"
        lines.append(f"{label} = {_odds_ratio(contrast)}")
    if model["interaction"] is not None:
        lines.append(
            f"model wrong over model right: ratio of the odds ratios = {_odds_ratio(model['interaction'])}"
        )
    sds = ", ".join(f"{effect} {value['sd']:.2f}" for effect, value in model["random_effects"].items())
    lines.append(f"Random intercepts, SD on the log-odds scale: {sds}")
    return lines + ([model["message"]] if model["message"] else [])


def _odds_ratio(figures: dict[str, Any]) -> str:
    low, high = figures["odds_ratio_ci"]
    return f"{figures['odds_ratio']:.2f} (95% CI {low:.2f} to {high:.2f})"


def mixed_model_rows(results: dict[str, Any]) -> list[list[str]]:
    """The fixed effects on the log-odds scale: estimate, posterior SD and 95% interval."""
    model = results["mixed_model"]
    rows = [["term", "log-odds", "SD", "95% interval"]]
    for effect in model["fixed_effects"]:
        subset = SUBSET_LABELS[effect["subset"]]
        if effect["condition"] is None:
            term = f"{subset}: {_name(results, model['reference'])} (reference)"
        else:
            term = f"{subset}: {_name(results, effect['condition'])} vs {_name(results, model['reference'])}"
        low, high = effect["ci"]
        rows.append([term, f"{effect['estimate']:.2f}", f"{effect['sd']:.2f}", f"{low:.2f} to {high:.2f}"])
    return rows


def shows_every_pair(results: dict[str, Any]) -> bool:
    """With two conditions the one pair is the configured test again, so the omnibus and pairs add nothing."""
    return len(results["conditions"]) > 2


def omnibus_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for subset, omnibus in results["omnibus"].items():
        compared = ", ".join(_name(results, key) for key in omnibus["conditions"])
        if omnibus["h"] is None:
            figures = omnibus["message"]
        else:
            figures = f"H({omnibus['df']}) = {omnibus['h']:.2f}, p = {omnibus['p']:.2g}"
            figures += f". {omnibus['message']}" if omnibus["message"] else ""
        lines.append(f"{SUBSET_LABELS[subset]}: {compared or 'no condition'}: {figures}")
    return lines


def pairwise_rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per subset and pair: how p was found, U of the first, Z, two-sided p, Holm's p, rank-biserial
    r."""
    rows = [["subset", "pair", "n", "p method", "U (first)", "Z", "p", "p (Holm)", "r", "note"]]
    for pair in results["pairwise"]:
        row = [
            SUBSET_LABELS[pair["subset"]],
            f"{_name(results, pair['a'])} vs {_name(results, pair['b'])}",
            f"{pair['n_a']} vs {pair['n_b']}",
            pair["method"] or "—",
            _figure(pair["u"], "g"),
            _figure(pair["z"], ".2f"),
            _figure(pair["p"], ".2g"),
            _figure(pair["p_holm"], ".2g"),
            _figure(pair["rank_biserial"], ".2f"),
            pair["message"] or "",
        ]
        rows.append(row)
    return rows


def _figure(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def dropout_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = [["condition", "started", "completed", "abandoned", "in progress"]]
    for key, counts in results["dropout"].items():
        numbers = [counts["started"], counts["completed"], counts["abandoned"], counts["in_progress"]]
        rows.append([_name(results, key), *map(str, numbers)])
    return rows


def question_rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per question: accuracy (answers) and median response time for each condition."""
    keys = list(results["conditions"])
    header = ["question", "model", "prediction"]
    for key in keys:
        header += [f"{_name(results, key)} accuracy", f"{_name(results, key)} median time"]
    times = {(row["question"], row["condition"]): row["median_ms"] for row in results["response_times"]}
    by_question: dict[str, dict[str, dict[str, Any]]] = {}
    for row in results["questions"]:
        by_question.setdefault(row["question"], {})[row["condition"]] = row
    rows = [header]
    for question, answered in by_question.items():
        first = next(iter(answered.values()))
        cells = [question, "right" if first["model_correct"] else "wrong", first["prediction"]]
        for key in keys:
            row, ms = answered.get(key), times.get((question, key))
            cells.append(f"{percent(row['accuracy'])} ({row['n']})" if row else "—")
            cells.append("—" if ms is None else f"{ms / 1000:.1f} s")
        rows.append(cells)
    return rows


def item_rows(results: dict[str, Any]) -> list[list[str]]:
    """The questions ranked by the difference between the compared conditions: each condition's accuracy
    with its Wilson interval and share of "I just can't tell", then the difference."""
    items = results["items"]
    keys = list(results["conditions"])
    header = ["rank", "question", "model", "prediction"]
    for key in keys:
        header += [f"{_name(results, key)} accuracy (95% CI)", f"{_name(results, key)} can't tell"]
    if items["conditions"]:
        first, second = (_name(results, key) for key in items["conditions"])
        header.append(f"{first} - {second}")
    rows = [header]
    for question in items["questions"]:
        cells = [
            str(question["rank"]),
            question["question"],
            "right" if question["model_correct"] else "wrong",
        ]
        cells.append(question["prediction"])
        for key in keys:
            cells += _item_cells(question["conditions"].get(key))
        if items["conditions"]:
            difference = question["difference"]
            cells.append("—" if difference is None else points(difference))
        rows.append(cells)
    return rows


def _item_cells(cell: dict[str, Any] | None) -> list[str]:
    if cell is None:
        return ["—", "—"]
    if cell["accuracy"] is None:
        return [f"{cell['correct']}/{cell['n']}: impossible", percent(cell["cant_tell_share"])]
    low, high = cell["ci"]
    accuracy = f"{percent(cell['accuracy'])} ({percent(low)} to {percent(high)})"
    return [accuracy, percent(cell["cant_tell_share"])]


def columns(rows: list[list[str]]) -> str:
    """Rows as left-aligned, space-padded columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def plan_rows(plan: dict[str, Any]) -> list[list[str]]:
    """The power curve: n per condition and the share of simulated studies with p < alpha."""
    return [["n per condition", "power"], *([n, percent(power)] for n, power in plan["power"].items())]


def plan_lines(plan: dict[str, Any], names: dict[str, str]) -> list[str]:
    """What was simulated, from which pilot, and the answer."""
    first, second = (names.get(key, key) for key in plan["conditions"])
    sided = _SIDED[plan["alternative"]]
    symbol = ALTERNATIVE_SYMBOLS[plan["alternative"]]
    pilot = ", ".join(f"{names.get(key, key)} {count}" for key, count in plan["pilot"].items())
    method = {"auto": "exact below 20 per group, else normal", "exact": "exact", "normal": "normal"}
    lines = [
        f"{SUBSET_LABELS[plan['subset']]}: H1 Acc({first}) {symbol} Acc({second}), {sided} alpha = "
        f"{plan['alpha']:g}, target power {percent(plan['target_power'])}",
        f"Pilot participants: {pilot}. {plan['simulations']} simulated studies per n (seed {plan['seed']}), "
        f"Mann-Whitney p {method[plan['p_method']]}. Each power is the share of simulated studies with "
        f"p < alpha; its Monte Carlo standard error is at most {percent(plan['monte_carlo_se'])}.",
    ]
    if plan["n_per_condition"] is None:
        largest = max(int(n) for n in plan["power"])
        lines.append(f"No n up to {largest} per condition reaches {percent(plan['target_power'])} power.")
    else:
        lines.append(f"Smallest n per condition that reaches the target: {plan['n_per_condition']}")
    return lines


def plan_render_text(plan: dict[str, Any], names: dict[str, str]) -> str:
    return "\n\n".join(["\n".join(plan_lines(plan, names)), columns(plan_rows(plan))]) + "\n"


def results_render_text(results: dict[str, Any]) -> str:
    sections = [
        *results["messages"],
        "Participant flow (started -> completed -> excluded by each rule, in this order -> analysed)",
        columns(flow_rows(results)),
        "\n".join(exclusion_lines(results)),
        "Table 1. Accuracy in guessing the model's prediction (mean ± standard error)",
        columns(table1_rows(results)),
        'Medians and share of "I just can\'t tell" answers',
        columns(detail_rows(results)),
        f"Mann-Whitney U tests ({tests_heading(results)})",
        "\n".join(test_lines(results)) or "No test.",
        *(_every_pair_sections(results) if shows_every_pair(results) else []),
        *_mixed_model_sections(results),
        "Participants",
        columns(dropout_rows(results)),
        "Per question (accuracy among answers, with their number; median response time)",
        columns(question_rows(results)) if results["questions"] else "No answers yet.",
        *_item_sections(results),
    ]
    return "\n\n".join(sections) + "\n"


def _item_sections(results: dict[str, Any]) -> list[str]:
    if not results["items"]["questions"]:
        return []
    heading = "Item analysis (accuracy with its Wilson 95% interval)"
    pair = results["items"]["conditions"]
    if pair:
        first, second = (_name(results, key) for key in pair)
        heading += f", questions ranked by accuracy in {first} minus {second} (points)"
    return [heading, columns(item_rows(results))]


def _mixed_model_sections(results: dict[str, Any]) -> list[str]:
    model = results["mixed_model"]
    sections = [f"Logistic mixed model: {model['formula']}", "\n".join(mixed_model_lines(results))]
    if model["fixed_effects"]:
        sections += ["Its fixed effects (log-odds scale)", columns(mixed_model_rows(results))]
    return sections


def _every_pair_sections(results: dict[str, Any]) -> list[str]:
    continuity = "with" if results["options"]["continuity"] else "no"
    exact = any(pair["method"] == "exact" for pair in results["pairwise"])
    return [
        "Kruskal-Wallis H tests across the conditions (chi-squared approximation, tie-corrected)",
        "\n".join(omnibus_lines(results)),
        f"Every pair: two-sided Mann-Whitney U tests ({continuity} continuity correction), "
        "p adjusted by Holm within each subset" + (", exact by permutation where marked" if exact else ""),
        columns(pairwise_rows(results)),
    ]
