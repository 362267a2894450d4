"""Which images become questions, and which four classes each question offers.

Pure Python on the classifier's outputs, so the rules are easy to test: a question is "right" when
the model's top class is one of the image's true labels, and picks are deterministic for a seed.
An image whose Grad-CAM mask is (almost) empty is never picked: both its explanations would be white.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from explainers.services.errors import RenderError

OPTIONS_PER_QUESTION = 4
# Below this mean mask the explanation is (almost) all white. ReLU comes before the upsampling, so a
# mask that is not empty shows at least one cell of the map: about 2% of the picture for a 7x7 map
# (a ResNet at 224 px), 11% for 3x3 (the demo's 96 px).
MIN_ATTENTION = 0.01


@dataclass(frozen=True)
class Prediction:
    key: str  # the dataset's image id
    labels: tuple[str, ...]  # true labels
    top: str  # the model's top class
    confidence: float  # its posterior
    attention: float = 1.0  # mean of the top class's Grad-CAM mask: how much of the picture it shows

    @property
    def correct(self) -> bool:
        return self.top in self.labels

    @property
    def blank(self) -> bool:
        return self.attention < MIN_ATTENTION


@dataclass(frozen=True)
class Pick:
    prediction: Prediction
    options: tuple[str, ...]


@dataclass
class Selection:
    questions: list[Pick]
    example: Pick | None
    note: str
    shortfall: bool = field(default=False)
    blank: int = 0  # labelled images passed over because their Grad-CAM mask is (almost) empty


def options_pick(*, prediction: Prediction, classes: Sequence[str], seed: int) -> tuple[str, ...]:
    """The prediction, a true label when the model is wrong, and random other classes: four, shuffled."""
    rng = random.Random(f"{seed}:{prediction.key}")  # per image, so one pick never shifts another
    options = [prediction.top]
    if not prediction.correct:
        options.append(rng.choice(sorted(prediction.labels)))
    rest = [name for name in classes if name not in options]
    if len(rest) < OPTIONS_PER_QUESTION - len(options):
        raise RenderError(
            f"need at least {OPTIONS_PER_QUESTION} classes for the options, have {len(classes)}"
        )
    options += rng.sample(rest, OPTIONS_PER_QUESTION - len(options))
    rng.shuffle(options)
    return tuple(options)


def counts_plan(
    *,
    right: int,
    wrong: int,
    n_correct: int,
    n_wrong: int,
    allow_shortfall: bool,
    split: str,
    blank: int = 0,
) -> tuple[int, int]:
    """How many right and wrong images to take; a short pool fails unless a shortfall is allowed."""
    if right >= n_correct and wrong >= n_wrong:
        return n_correct, n_wrong
    if not allow_shortfall:
        raise RenderError(
            f"the {split} split has {right} images the model gets right and {wrong} it gets wrong"
            f"{_blank_text(blank)}; {n_correct} right and {n_wrong} wrong were asked for"
        )
    take_right, take_wrong = min(right, n_correct), min(wrong, n_wrong)
    missing = n_correct + n_wrong - take_right - take_wrong
    extra_right = min(missing, right - take_right)  # keep the total when the other pool has spares
    return take_right + extra_right, take_wrong + min(missing - extra_right, wrong - take_wrong)


def questions_select(
    *,
    predictions: Sequence[Prediction],
    classes: Sequence[str],
    n_correct: int,
    n_wrong: int,
    seed: int,
    allow_shortfall: bool = False,
    split: str = "test",
) -> Selection:
    """Pick right and wrong images (and one spare as the intros' example), each with its options."""
    labelled = sorted((p for p in predictions if p.labels), key=lambda p: p.key)
    usable = [p for p in labelled if not p.blank]
    blank = len(labelled) - len(usable)
    right = [p for p in usable if p.correct]
    wrong = [p for p in usable if not p.correct]
    take_right, take_wrong = counts_plan(
        right=len(right),
        wrong=len(wrong),
        n_correct=n_correct,
        n_wrong=n_wrong,
        allow_shortfall=allow_shortfall,
        split=split,
        blank=blank,
    )
    rng = random.Random(seed)
    chosen = sorted(rng.sample(right, take_right) + rng.sample(wrong, take_wrong), key=lambda p: p.key)
    spares = [p for p in right if p not in chosen] or [p for p in wrong if p not in chosen]
    example = rng.choice(spares) if spares else None
    shortfall = (take_right, take_wrong) != (n_correct, n_wrong)
    return Selection(
        questions=[Pick(p, options_pick(prediction=p, classes=classes, seed=seed)) for p in chosen],
        example=None
        if example is None
        else Pick(example, options_pick(prediction=example, classes=classes, seed=seed)),
        note=_note(
            right=len(right),
            wrong=len(wrong),
            took=(take_right, take_wrong),
            asked=(n_correct, n_wrong),
            split=split,
            blank=blank,
        ),
        shortfall=shortfall,
        blank=blank,
    )


def _note(
    *, right: int, wrong: int, took: tuple[int, int], asked: tuple[int, int], split: str, blank: int
) -> str:
    note = (
        f"{took[0]} right and {took[1]} wrong questions from the {split} split "
        f"(the model is right on {right} images and wrong on {wrong}{_blank_text(blank)})."
    )
    if took != asked:
        note += f" Asked for {asked[0]} right and {asked[1]} wrong: the split had too few."
    return note


def _blank_text(blank: int) -> str:
    if not blank:
        return ""
    return f", leaving out {blank} whose Grad-CAM mask is (almost) empty"
