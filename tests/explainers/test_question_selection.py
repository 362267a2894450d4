"""Question selection by the paper's rule (section 4): P = L is right, P and L disjoint is wrong, the rest
is not eligible; the four options are the top class and the image's other true labels."""

from __future__ import annotations

import pytest

from explainers.nn.labels import VOC_CLASSES
from explainers.services import Prediction, RenderError, options_pick, questions_select


def made(key: str, labels: tuple[str, ...], predicted: dict[str, float], **extra: object) -> Prediction:
    """An image with ``labels`` whose posteriors are ``predicted`` and 0.1 for every other class."""
    posteriors = {name: predicted.get(name, 0.1) for name in VOC_CLASSES}
    return Prediction(key=key, labels=labels, posteriors=posteriors, **extra)


def predictions(right: int, wrong: int) -> list[Prediction]:
    """``right`` images of a cat and a person, both named; ``wrong`` ones of a dog that it calls a cat."""
    pool = [made(f"r{i:03d}", ("cat", "person"), {"cat": 0.9, "person": 0.8}) for i in range(right)]
    pool += [made(f"w{i:03d}", ("dog",), {"cat": 0.7}) for i in range(wrong)]
    return pool


def select(pool: list[Prediction], **overrides: object) -> object:
    arguments = {"predictions": pool, "classes": VOC_CLASSES, "n_correct": 16, "n_wrong": 14, "seed": 0}
    return questions_select(**{**arguments, **overrides})


def test_the_prediction_set_holds_the_classes_above_one_half_highest_first() -> None:
    image = made("a", ("cat",), {"dog": 0.6, "cat": 0.95, "sofa": 0.5})

    assert image.prediction_set == ("cat", "dog")
    assert image.top == "cat"
    assert image.confidence == 0.95


def test_an_image_whose_prediction_set_equals_its_labels_is_right() -> None:
    assert made("a", ("cat", "person"), {"person": 0.9, "cat": 0.6}).category == "correct"


def test_a_partial_overlap_is_not_eligible() -> None:
    assert made("a", ("cat", "person"), {"cat": 0.9}).category == "partial_overlap"
    assert made("b", ("cat",), {"cat": 0.9, "dog": 0.7}).category == "partial_overlap"


def test_a_top_class_outside_the_labels_with_a_true_label_also_predicted_is_not_eligible() -> None:
    image = made("a", ("cat",), {"dog": 0.9, "cat": 0.6})

    assert image.top == "dog"
    assert image.category == "partial_overlap"


def test_an_empty_prediction_set_is_not_eligible() -> None:
    assert made("a", ("cat",), {"cat": 0.5}).category == "empty_prediction_set"


def test_a_prediction_set_disjoint_from_the_labels_is_wrong() -> None:
    image = made("a", ("cat", "sofa"), {"dog": 0.8, "bird": 0.6})

    assert image.category == "incorrect"
    assert not image.correct


def test_under_the_ignore_policy_a_prediction_of_a_difficult_only_class_is_not_eligible() -> None:
    image = made("a", ("dog",), {"cat": 0.8}, ignored=("cat",))

    assert image.category == "difficult_in_prediction"


def test_only_eligible_images_are_picked_and_the_audit_counts_every_kind() -> None:
    partial = [made(f"p{i}", ("cat", "person"), {"cat": 0.9}) for i in range(5)]
    empty = [made(f"e{i}", ("cat",), {}) for i in range(4)]
    blank = [made(f"b{i}", ("dog",), {"cat": 0.9}, attention=0.0) for i in range(3)]

    selection = select([*partial, *empty, *blank, *predictions(20, 20)], split="val", seed=5)

    picked = {pick.prediction.key for pick in selection.questions}
    assert picked <= {p.key for p in predictions(20, 20)}
    assert selection.audit == {
        "rule": "paper-section-4",
        "rule_text": selection.audit["rule_text"],
        "split": "val",
        "seed": 5,
        "difficult": "labels",
        "images": 52,
        "eligible_correct": 20,
        "eligible_incorrect": 23,
        "not_eligible_partial_overlap": 5,
        "not_eligible_empty_prediction_set": 4,
        "not_eligible_no_labels": 0,
        "not_eligible_difficult_in_prediction": 0,
        "left_out_empty_mask": 3,
        "picked_correct": 16,
        "picked_incorrect": 14,
        "picked_practice": 2,
        "picked_attention": 1,  # an instructed check's picture; no spare right image has a single label
    }
    assert "P = classes with posterior > 0.5" in selection.audit["rule_text"]


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


def test_the_options_are_the_top_class_and_every_other_true_label_when_there_are_three() -> None:
    image = made("a", ("cat", "dog", "sofa", "person"), {"cat": 0.9, "dog": 0.8, "sofa": 0.7, "person": 0.6})

    assert sorted(options_pick(prediction=image, classes=VOC_CLASSES, seed=0)) == [
        "cat",
        "dog",
        "person",
        "sofa",
    ]


def test_with_more_than_three_other_labels_a_seeded_three_are_kept() -> None:
    labels = ("cat", "dog", "sofa", "person", "chair", "bottle")
    image = made("a", labels, {"cat": 0.9})

    picks = {options_pick(prediction=image, classes=VOC_CLASSES, seed=seed) for seed in range(12)}

    for options in picks:
        assert "cat" in options
        assert set(options) <= set(labels)
    assert len({frozenset(options) for options in picks}) > 1  # the kept three depend on the seed
    assert options_pick(prediction=image, classes=VOC_CLASSES, seed=3) == options_pick(
        prediction=image, classes=VOC_CLASSES, seed=3
    )


def test_with_fewer_than_three_other_labels_the_rest_are_classes_absent_from_the_picture() -> None:
    image = made("a", ("cat", "sofa"), {"cat": 0.9, "sofa": 0.8}, ignored=("chair",))

    for seed in range(20):
        options = options_pick(prediction=image, classes=VOC_CLASSES, seed=seed)
        assert {"cat", "sofa"} <= set(options)
        assert "chair" not in options  # in the picture, if only as a difficult object
        assert len(set(options) - {"cat", "sofa"}) == 2


def test_a_question_the_model_gets_wrong_offers_its_top_class_and_the_true_labels() -> None:
    image = made("a", ("cat", "sofa"), {"dog": 0.8})

    options = options_pick(prediction=image, classes=VOC_CLASSES, seed=0)

    assert {"dog", "cat", "sofa"} <= set(options)


def test_the_options_of_an_image_do_not_depend_on_the_other_images() -> None:
    image = made("2008_000123", ("cat",), {"tvmonitor": 0.6})
    alone = options_pick(prediction=image, classes=VOC_CLASSES, seed=3)
    picked = select([*predictions(20, 20), image], n_wrong=21, seed=3).questions
    among_others = next(pick.options for pick in picked if pick.prediction.key == image.key)
    assert alone == among_others


def test_the_prediction_is_not_always_the_first_option() -> None:
    firsts = {pick.options[0] for pick in select(predictions(40, 40)).questions}
    assert firsts != {"cat"}


def test_a_split_with_too_few_right_images_is_refused_with_every_count_and_why() -> None:
    partial = [made(f"p{i}", ("cat", "person"), {"cat": 0.9}) for i in range(5)]
    empty = [made(f"e{i}", ("cat",), {}) for i in range(4)]

    with pytest.raises(RenderError) as refused:
        select([*partial, *empty, *predictions(3, 40)])

    message = str(refused.value)
    assert "the test split has 52 images: 3 the model gets right (P = L) and 40 it gets wrong" in message
    assert "not eligible: 5 P and L overlap only in part, 4 no class has a posterior above 0.5" in message
    assert "16 right and 14 wrong were asked for" in message


def test_a_short_pool_is_filled_from_the_other_when_a_shortfall_is_allowed() -> None:
    selection = select(predictions(3, 40), allow_shortfall=True)
    picked = [pick.prediction for pick in selection.questions]
    assert (sum(p.correct for p in picked), len(picked)) == (3, 30)
    assert selection.shortfall
    assert "Asked for 16 right and 14 wrong" in selection.note


def test_images_without_labels_are_never_picked() -> None:
    unlabelled = [made(f"u{i}", (), {"cat": 0.9}) for i in range(10)]
    selection = select([*unlabelled, *predictions(2, 2)], n_correct=2, n_wrong=2)
    assert all(pick.prediction.labels for pick in selection.questions)
    assert selection.example is None
    assert selection.audit["not_eligible_no_labels"] == 10


def test_images_whose_grad_cam_mask_is_empty_are_never_picked_and_the_note_counts_them() -> None:
    blank = [
        made(f"b{i:03d}", ("dog",), {"cat": 0.6}, attention=share)
        for i, share in enumerate([0.0, 0.0, 0.009])
    ]
    pool = [*blank, *predictions(20, 20)]

    first, second = select(pool), select(pool)

    keys = {pick.prediction.key for pick in first.questions} | {first.example.prediction.key}
    assert not keys & {p.key for p in blank}
    assert first.blank == 3
    assert "left out 3 eligible whose Grad-CAM mask is (almost) empty" in first.note
    assert first.questions == second.questions  # still deterministic


def test_a_mask_that_shows_one_cell_of_a_seven_by_seven_map_is_kept() -> None:
    focused = made("f", ("dog",), {"cat": 0.6}, attention=0.02)

    selection = select([focused], n_correct=0, n_wrong=1)

    assert [pick.prediction.key for pick in selection.questions] == ["f"]
    assert selection.blank == 0
    assert "left out" not in selection.note


def test_a_split_short_of_images_once_empty_masks_are_left_out_says_so() -> None:
    blank = [made(f"b{i}", ("dog",), {"cat": 0.6}, attention=0.0) for i in range(9)]

    with pytest.raises(RenderError, match="left out 9 eligible whose Grad-CAM mask is"):
        select([*blank, *predictions(40, 5)])


def test_practice_and_attention_images_come_from_the_spares_and_never_repeat_a_question() -> None:
    pool = [
        *predictions(20, 20),
        made("clear", ("cow",), {"cow": 0.99}),
        made("sure", ("cow",), {"cow": 0.95}),
    ]

    selection = select(pool, seed=3, n_correct=4, n_wrong=4)

    used = {pick.prediction.key for pick in selection.questions} | {selection.example.prediction.key}
    extras = [*selection.practice, selection.unmistakable, selection.instructed]
    assert len({pick.prediction.key for pick in extras} | used) == len(used) + 4  # all different
    assert [pick.prediction.correct for pick in selection.practice] == [True, False]  # one right, one wrong
    # The unmistakable image has one label, and the model is surest of it among the spares.
    single = [p for p in pool if p.correct and len(p.labels) == 1 and p.key not in used]
    assert selection.unmistakable.prediction == max(single, key=lambda p: p.confidence)
    assert selection.unmistakable.prediction.top in selection.unmistakable.options
    assert selection.audit["picked_practice"] == 2 and selection.audit["picked_attention"] == 2


def test_the_same_seed_picks_the_same_practice_and_attention_images() -> None:
    first, second = select(predictions(40, 40), seed=7), select(predictions(40, 40), seed=7)

    assert (first.practice, first.unmistakable, first.instructed) == (
        second.practice, second.unmistakable, second.instructed,
    )  # fmt: skip


def test_a_split_without_spares_gets_no_practice_and_no_attention_images() -> None:
    selection = select(predictions(16, 14))

    assert (selection.practice, selection.unmistakable, selection.instructed) == ([], None, None)
