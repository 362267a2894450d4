"""Question selection: right and wrong pools, seeded picks, and the four options of each question."""

from __future__ import annotations

import pytest

from explainers.nn.labels import VOC_CLASSES
from explainers.services import Prediction, RenderError, options_pick, questions_select


def predictions(right: int, wrong: int) -> list[Prediction]:
    """``right`` images where the model says "cat" and there is a cat, ``wrong`` where there is only a dog."""
    made = [
        Prediction(key=f"r{i:03d}", labels=("cat", "person"), top="cat", confidence=0.9) for i in range(right)
    ]
    made += [Prediction(key=f"w{i:03d}", labels=("dog",), top="cat", confidence=0.7) for i in range(wrong)]
    return made


def select(pool: list[Prediction], **overrides: object) -> object:
    arguments = {"predictions": pool, "classes": VOC_CLASSES, "n_correct": 16, "n_wrong": 14, "seed": 0}
    return questions_select(**{**arguments, **overrides})


def test_it_picks_sixteen_right_and_fourteen_wrong_questions_and_a_spare_example() -> None:
    selection = select(predictions(40, 40))
    picked = [pick.prediction for pick in selection.questions]
    assert sum(p.correct for p in picked) == 16
    assert sum(not p.correct for p in picked) == 14
    assert selection.example is not None
    assert selection.example.prediction.key not in {p.key for p in picked}
    assert selection.example.prediction.correct
    assert not selection.shortfall


def test_the_same_seed_picks_the_same_questions_and_options() -> None:
    first, second = select(predictions(40, 40), seed=7), select(predictions(40, 40), seed=7)
    assert first.questions == second.questions
    assert first.example == second.example


def test_another_seed_picks_other_questions() -> None:
    keys = [{pick.prediction.key for pick in select(predictions(40, 40), seed=s).questions} for s in (1, 2)]
    assert keys[0] != keys[1]


def test_every_question_offers_four_distinct_classes_including_the_prediction() -> None:
    for pick in select(predictions(40, 40)).questions:
        assert len(pick.options) == 4
        assert len(set(pick.options)) == 4
        assert set(pick.options) <= set(VOC_CLASSES)
        assert pick.prediction.top in pick.options


def test_a_question_the_model_gets_wrong_offers_a_true_label() -> None:
    wrong = [pick for pick in select(predictions(40, 40)).questions if not pick.prediction.correct]
    assert wrong
    assert all("dog" in pick.options for pick in wrong)


def test_the_options_of_an_image_do_not_depend_on_the_other_images() -> None:
    image = Prediction(key="2008_000123", labels=("cat",), top="tvmonitor", confidence=0.6)
    alone = options_pick(prediction=image, classes=VOC_CLASSES, seed=3)
    picked = select([*predictions(20, 20), image], n_wrong=21, seed=3).questions
    among_others = next(pick.options for pick in picked if pick.prediction.key == image.key)
    assert alone == among_others


def test_the_prediction_is_not_always_the_first_option() -> None:
    firsts = {pick.options[0] for pick in select(predictions(40, 40)).questions}
    assert firsts != {"cat"}


def test_a_split_with_too_few_right_images_is_refused_with_the_counts() -> None:
    with pytest.raises(RenderError, match="3 images the model gets right and 40 it gets wrong"):
        select(predictions(3, 40))


def test_a_short_pool_is_filled_from_the_other_when_a_shortfall_is_allowed() -> None:
    selection = select(predictions(3, 40), allow_shortfall=True)
    picked = [pick.prediction for pick in selection.questions]
    assert (sum(p.correct for p in picked), len(picked)) == (3, 30)
    assert selection.shortfall
    assert "Asked for 16 right and 14 wrong" in selection.note


def test_images_without_labels_are_never_picked() -> None:
    unlabelled = [Prediction(key=f"u{i}", labels=(), top="cat", confidence=0.5) for i in range(10)]
    selection = select([*unlabelled, *predictions(2, 2)], n_correct=2, n_wrong=2)
    assert all(pick.prediction.labels for pick in selection.questions)
    assert selection.example is None


def test_images_whose_grad_cam_mask_is_empty_are_never_picked_and_the_note_counts_them() -> None:
    blank = [
        Prediction(key=f"b{i:03d}", labels=("dog",), top="cat", confidence=0.6, attention=share)
        for i, share in enumerate([0.0, 0.0, 0.009])
    ]
    pool = [*blank, *predictions(20, 20)]

    first, second = select(pool), select(pool)

    keys = {pick.prediction.key for pick in first.questions} | {first.example.prediction.key}
    assert not keys & {p.key for p in blank}
    assert first.blank == 3
    assert "wrong on 20, leaving out 3 whose Grad-CAM mask is (almost) empty" in first.note
    assert first.questions == second.questions  # still deterministic


def test_a_mask_that_shows_one_cell_of_a_seven_by_seven_map_is_kept() -> None:
    focused = Prediction(key="f", labels=("dog",), top="cat", confidence=0.6, attention=0.02)

    selection = select([focused], n_correct=0, n_wrong=1)

    assert [pick.prediction.key for pick in selection.questions] == ["f"]
    assert selection.blank == 0
    assert "leaving out" not in selection.note


def test_a_split_short_of_images_once_empty_masks_are_left_out_says_so() -> None:
    blank = [
        Prediction(key=f"b{i}", labels=("dog",), top="cat", confidence=0.6, attention=0.0) for i in range(9)
    ]

    with pytest.raises(
        RenderError, match="40 images the model gets right and 5 it gets wrong, leaving out 9 whose"
    ):
        select([*blank, *predictions(40, 5)])
