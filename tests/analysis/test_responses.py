"""Reading the long-format responses file: what it accepts, and how it names what it refuses."""

from __future__ import annotations

import hashlib
import hmac
import io
from pathlib import Path

import pytest

from analysis.responses import (
    COLUMNS,
    ResponsesFileError,
    participant_pseudonym,
    participants_from_responses,
    question_order,
    responses_frame,
    responses_read,
    responses_write,
)
from core.errors import ApplicationError

HEADER = ",".join(COLUMNS)
GOOD = [
    "tok-a,gradcam,q1,true,cat,cat,true,1,1200",
    "tok-a,gradcam,q2,false,dog,cant_tell,false,2,3400",
    "tok-b,pv,q1,true,cat,bird,false,1,900",
]


def write(tmp_path: Path, lines: list[str], *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "responses.csv"
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def error_of(tmp_path: Path, lines: list[str]) -> str:
    with pytest.raises(ResponsesFileError) as caught:
        responses_read(write(tmp_path, lines))
    return str(caught.value)


def test_it_reads_a_well_formed_file_with_typed_columns(tmp_path: Path) -> None:
    frame = responses_read(write(tmp_path, [HEADER, *GOOD]))
    assert list(frame.columns) == list(COLUMNS)
    assert frame["is_correct"].tolist() == [True, False, False]
    assert frame["model_correct"].dtype == bool
    assert frame["response_ms"].tolist() == [1200, 3400, 900]
    assert frame["position"].dtype == "int64"


def test_what_it_writes_it_reads_back_unchanged(tmp_path: Path) -> None:
    frame = responses_read(write(tmp_path, [HEADER, *GOOD]))
    buffer = io.StringIO()
    assert responses_write(frame, buffer) == 3
    assert buffer.getvalue() == "\n".join([HEADER, *GOOD]) + "\n"


def test_it_accepts_a_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    frame = responses_read(write(tmp_path, [HEADER, GOOD[0], "", GOOD[1]], encoding="utf-8-sig"))
    assert len(frame) == 2


def test_a_bad_boolean_names_its_line_and_column(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0], GOOD[1].replace("cant_tell,false", "cant_tell,maybe")]
    assert error_of(tmp_path, lines) == "line 3, column is_correct: expected true/false, got 'maybe'"


def test_a_malformed_file_is_an_application_error_with_a_400_and_where_it_went_wrong(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0].replace(",1200", ",1.2s")]
    with pytest.raises(ApplicationError) as caught:
        responses_read(write(tmp_path, lines))
    assert isinstance(caught.value, ResponsesFileError)
    assert caught.value.status == 400
    assert caught.value.message == "line 2, column response_ms: expected an integer, got '1.2s'"
    assert caught.value.extra == {"line": 2, "column": "response_ms"}


def test_a_bad_integer_names_its_line_and_column(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0].replace(",1200", ",1.2s")]
    assert error_of(tmp_path, lines) == "line 2, column response_ms: expected an integer, got '1.2s'"


def test_a_position_below_one_is_refused(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0].replace(",1,1200", ",0,1200")]
    assert error_of(tmp_path, lines) == "line 2, column position: expected at least 1, got 0"


def test_an_empty_cell_is_refused(tmp_path: Path) -> None:
    assert error_of(tmp_path, [HEADER, ",gradcam,q1,true,cat,cat,true,1,1"]).startswith(
        "line 2, column participant: expected a value"
    )


def test_a_row_with_missing_fields_names_its_line_and_the_first_missing_column(tmp_path: Path) -> None:
    assert (
        error_of(tmp_path, [HEADER, GOOD[0], "tok-a,gradcam,q2"])
        == "line 3, column 4 (model_correct): missing; the row has 3 fields, expected 9"
    )


def test_a_row_with_an_extra_field_names_the_extra_column(tmp_path: Path) -> None:
    assert (
        error_of(tmp_path, [HEADER, f"{GOOD[0]},oops"])
        == "line 2, column 10: unexpected extra field 'oops'; the row has 10 fields, expected 9"
    )


def test_a_misspelt_header_names_the_column(tmp_path: Path) -> None:
    header = HEADER.replace("question", "qustion")
    assert error_of(tmp_path, [header, *GOOD]) == (
        f"line 1, column 3: expected 'question', got 'qustion'; the header is {HEADER}"
    )


def test_a_short_header_names_the_first_missing_column(tmp_path: Path) -> None:
    assert error_of(tmp_path, ["participant,condition", *GOOD]).startswith(
        "line 1, column 3: expected 'question', got nothing;"
    )


def test_a_long_header_names_the_extra_column(tmp_path: Path) -> None:
    assert error_of(tmp_path, [f"{HEADER},notes", *GOOD]).startswith(
        "line 1, column 10: expected nothing, got 'notes';"
    )


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert error_of(tmp_path, []).startswith("line 1: the file is empty")


def test_is_correct_must_agree_with_answer_and_prediction(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0].replace("cat,cat,true", "cat,cat,false")]
    assert error_of(tmp_path, lines).startswith("line 2, column is_correct: expected true")


def test_a_participant_may_not_change_condition(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0], GOOD[1].replace("tok-a,gradcam", "tok-a,pv")]
    assert (
        error_of(tmp_path, lines)
        == "line 3, column condition: 'tok-a' was 'gradcam' on an earlier line, here 'pv'"
    )


def test_a_question_may_not_change_its_prediction(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0], "tok-b,pv,q1,true,bird,bird,true,1,900"]
    assert error_of(tmp_path, lines).startswith(
        "line 3, column model_correct/prediction: 'q1' was (True, 'cat')"
    )


def test_a_second_answer_to_the_same_question_is_refused(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0], GOOD[0].replace(",1,1200", ",2,1300")]
    assert (
        error_of(tmp_path, lines)
        == "line 3, column question: participant 'tok-a' already answered question 'q1'"
    )


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\n{GOOD[0]}\ntok-\xe9,pv,q1,true,cat,cat,true,1,1\n".encode("latin-1"))
    with pytest.raises(ResponsesFileError, match=r"^line 3: not UTF-8 text"):
        responses_read(path)


def test_a_file_participant_who_answered_everything_counts_as_completed() -> None:
    frame = responses_frame(
        [
            ("a", "gradcam", "q1", True, "cat", "cat", True, 1, 1),
            ("a", "gradcam", "q2", False, "dog", "dog", True, 2, 1),
            ("b", "pv", "q1", True, "cat", "cat", True, 1, 1),
        ]
    )
    participants = participants_from_responses(frame)
    assert participants.values.tolist() == [["a", "gradcam", "completed"], ["b", "pv", "abandoned"]]


def test_questions_of_a_file_come_in_natural_order_not_lexical() -> None:
    rows = [("a", "pv", key, True, "cat", "cat", True, n, 1) for n, key in enumerate(["q10", "q2", "q1"], 1)]
    assert question_order(responses_frame(rows)) == ["q1", "q2", "q10"]


def test_the_pseudonym_is_an_hmac_of_the_token_keyed_by_the_studys_salt() -> None:
    expected = hmac.new(b"salt-1", b"tok-a", hashlib.sha256).hexdigest()[:16]
    assert participant_pseudonym("tok-a", salt="salt-1") == expected
    assert participant_pseudonym("tok-a", salt="salt-2") != expected
    assert participant_pseudonym("tok-b", salt="salt-1") != expected
