"""The long-format responses file: one row per answer. Written by export_responses, read back here.

Columns: participant (a pseudonym, never the token: see participant_pseudonym), condition (key),
question (key), model_correct, prediction, answer (class label or "cant_tell"), is_correct, position
(1-based), response_ms. Booleans are written true/false. An export writes the conditions in the study's
order, which is how a file tells the analysis which condition comes first.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from core.errors import ApplicationError

COLUMNS = (
    "participant",
    "condition",
    "question",
    "model_correct",
    "prediction",
    "answer",
    "is_correct",
    "position",
    "response_ms",
)
_TEXT = ("participant", "condition", "question", "prediction", "answer")
_BOOLEANS = {"true": True, "false": False}
# What participants_from_responses cannot know; said in the results of every analysis of a file.
FILE_DROPOUT_NOTE = (
    "Dropout from a responses file counts only participants with at least one answer in it: anyone who "
    "never answered is missing. The file has no statuses, so whoever answered every question counts as "
    "completed and everyone else as abandoned, including participants still in progress; the database's "
    "dropout (analyze_results --study) has the true figures."
)


class ResponsesFileError(ApplicationError):
    """A malformed responses file (400); the message names the line (1 is the header) and the column."""

    def __init__(self, detail: str, *, line: int, column: str | None = None) -> None:
        where = f"line {line}" if column is None else f"line {line}, column {column}"
        super().__init__(f"{where}: {detail}", extra={"line": line, "column": column})
        self.line = line
        self.column = column


def participant_pseudonym(token: str, *, salt: str) -> str:
    """Who answered, without the token, which is the participant's credential: a keyed hash (HMAC-SHA256
    with the study's salt), stable within a study, not reversible, unlinkable across studies."""
    return hmac.new(salt.encode(), token.encode(), hashlib.sha256).hexdigest()[:16]


def responses_frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows in COLUMNS order to a DataFrame with fixed dtypes, so every source compares equal."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    return frame.astype(
        {
            **dict.fromkeys(_TEXT, "str"),
            "model_correct": "bool",
            "is_correct": "bool",
            "position": "int64",
            "response_ms": "int64",
        }
    )


def responses_write(frame: pd.DataFrame, stream: TextIO) -> int:
    """Write the frame as CSV; returns the number of answers written."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in frame[list(COLUMNS)].itertuples(index=False):
        writer.writerow(_format(value) for value in row)
    return len(frame)


def _format(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def responses_read(path: str | Path) -> pd.DataFrame:
    """Read and validate a responses file; a malformed one raises ResponsesFileError."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ResponsesFileError(f"not UTF-8 text ({exc.reason})", line=line) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(_parsed_rows(reader))
    except csv.Error as exc:
        raise ResponsesFileError(f"not valid CSV ({exc})", line=reader.line_num) from exc
    _check_consistent(rows)
    return responses_frame(values for _, values in rows)


def _parsed_rows(reader: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise ResponsesFileError(f"the file is empty; expected the header {','.join(COLUMNS)}", line=1)
    _check_header([cell.strip() for cell in header])
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines carry nothing
        _check_field_count(cells, reader.line_num)
        yield reader.line_num, _parsed(dict(zip(COLUMNS, cells, strict=True)), reader.line_num)


def _check_header(header: list[str]) -> None:
    """Names the first column (1-based) that differs from COLUMNS."""
    for index in range(max(len(header), len(COLUMNS))):
        expected = repr(COLUMNS[index]) if index < len(COLUMNS) else "nothing"
        got = repr(header[index]) if index < len(header) else "nothing"
        if got != expected:
            detail = f"expected {expected}, got {got}; the header is {','.join(COLUMNS)}"
            raise ResponsesFileError(detail, line=1, column=str(index + 1))


def _check_field_count(cells: list[str], line: int) -> None:
    """Names the first missing column, or the first extra one."""
    count = f"the row has {len(cells)} fields, expected {len(COLUMNS)}"
    if len(cells) < len(COLUMNS):
        missing = COLUMNS[len(cells)]
        raise ResponsesFileError(f"missing; {count}", line=line, column=f"{len(cells) + 1} ({missing})")
    if len(cells) > len(COLUMNS):
        detail = f"unexpected extra field {cells[len(COLUMNS)]!r}; {count}"
        raise ResponsesFileError(detail, line=line, column=str(len(COLUMNS) + 1))


def _parsed(cells: dict[str, str], line: int) -> tuple[Any, ...]:
    values: dict[str, Any] = {}
    for column, raw in cells.items():
        if column in ("model_correct", "is_correct"):
            values[column] = _boolean(raw, line=line, column=column)
        elif column in ("position", "response_ms"):
            values[column] = _integer(raw, line=line, column=column, minimum=1 if column == "position" else 0)
        elif not raw.strip():
            raise ResponsesFileError("expected a value, got nothing", line=line, column=column)
        else:
            values[column] = raw.strip()
    return tuple(values[column] for column in COLUMNS)


def _boolean(raw: str, *, line: int, column: str) -> bool:
    try:
        return _BOOLEANS[raw.strip().lower()]
    except KeyError:
        raise ResponsesFileError(f"expected true/false, got {raw!r}", line=line, column=column) from None


def _integer(raw: str, *, line: int, column: str, minimum: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ResponsesFileError(f"expected an integer, got {raw!r}", line=line, column=column) from None
    if value < minimum:
        raise ResponsesFileError(f"expected at least {minimum}, got {value}", line=line, column=column)
    return value


def _check_consistent(rows: list[tuple[int, tuple[Any, ...]]]) -> None:
    """Rows must agree with each other: one condition per participant, one answer per question."""
    condition_of: dict[str, str] = {}
    question_facts: dict[str, tuple[bool, str]] = {}
    answered: set[tuple[str, str]] = set()
    for line, values in rows:
        row = dict(zip(COLUMNS, values, strict=True))
        _check_is_correct(row, line)
        _check_same(condition_of, row["participant"], row["condition"], line=line, column="condition")
        facts = (row["model_correct"], row["prediction"])
        _check_same(question_facts, row["question"], facts, line=line, column="model_correct/prediction")
        if (row["participant"], row["question"]) in answered:
            detail = f"participant {row['participant']!r} already answered question {row['question']!r}"
            raise ResponsesFileError(detail, line=line, column="question")
        answered.add((row["participant"], row["question"]))


def _check_is_correct(row: dict[str, Any], line: int) -> None:
    expected = row["answer"] == row["prediction"]
    if row["is_correct"] != expected:
        detail = (
            f"expected {_format(expected)} (answer {row['answer']!r}, prediction {row['prediction']!r}), "
            f"got {_format(row['is_correct'])}"
        )
        raise ResponsesFileError(detail, line=line, column="is_correct")


def _check_same(seen: dict[str, Any], key: str, value: Any, *, line: int, column: str) -> None:
    first = seen.setdefault(key, value)
    if first != value:
        raise ResponsesFileError(
            f"{key!r} was {first!r} on an earlier line, here {value!r}", line=line, column=column
        )


def question_order(responses: pd.DataFrame) -> list[str]:
    """The file's question keys in natural order (q2 before q10): a file holds no study order, and the
    order of first appearance is only the first participant's shuffled one."""
    return sorted(set(responses["question"]), key=lambda key: (_natural_key(key), key))


def _natural_key(key: str) -> list[int | str]:
    # Splitting on a captured group alternates text and digits, so lists compare str with str, int with int.
    return [int(part) if index % 2 else part for index, part in enumerate(re.split(r"([0-9]+)", key))]


def participants_from_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """A file has no statuses: a participant who answered every question in it counts as completed,
    anyone else as abandoned (no timestamps say whether they might still come back). See
    FILE_DROPOUT_NOTE for what this cannot count."""
    answered = responses.groupby("participant", sort=False).agg(
        condition=("condition", "first"), answers=("question", "nunique")
    )
    everything = responses["question"].nunique()
    status = answered["answers"].eq(everything).map({True: "completed", False: "abandoned"})
    return pd.DataFrame(
        {
            "participant": answered.index,
            "condition": answered["condition"].to_numpy(),
            "status": status.to_numpy(),
        }
    ).astype({"participant": "str", "condition": "str", "status": "str"})
