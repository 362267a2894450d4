"""Which images become questions, and which four classes each question offers: the paper's section 4.

Pure Python on the classifier's outputs, so the rules are easy to test. An image is a "right" question
when its prediction set P (posterior > 0.5) equals its labels L, and a "wrong" one when P is not empty
and shares no class with L (survey.rules). The asked class is the top class. The four options are the
top class and up to three other true labels, filled with classes absent from the picture. Picks are
deterministic for a seed, and every count is kept so the choice can be audited afterwards. An image
whose Grad-CAM mask is (almost) empty is never picked: both its explanations would be white.

From the eligible images left over come the introductions' example, the practice questions (one the
model gets right, one it gets wrong), an "unmistakable" attention check (the right image with a single
label the model is surest of) and the picture behind an instructed-response check.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from explainers.services.errors import RenderError
from survey import rules
from survey.constants import OPTIONS_PER_QUESTION

# Below this mean mask the explanation is (almost) all white. ReLU comes before the upsampling, so a
# mask that is not empty shows at least one cell of the map: about 2% of the picture for a 7x7 map
# (a ResNet at 224 px), 11% for 3x3 (the demo's 96 px).
MIN_ATTENTION = 0.01
# Under the "ignore" policy, an image whose P names a class seen there only as difficult objects is
# neither right nor wrong for that class (VOC's own protocol), so it is not eligible either.
DIFFICULT_IN_PREDICTION = "difficult_in_prediction"
EMPTY_MASK = "empty_mask"
WHY_NOT = {
    rules.PARTIAL_OVERLAP: "P and L overlap only in part",
    rules.EMPTY_PREDICTION_SET: "no class has a posterior above 0.5",
    rules.NO_LABELS: "no true label",
    DIFFICULT_IN_PREDICTION: "P names a class present only as difficult objects",
    EMPTY_MASK: "an (almost) empty Grad-CAM mask",
}


@dataclass(frozen=True)
class Prediction:
    key: str  # the dataset's image id
    labels: tuple[str, ...]  # true labels, L
    posteriors: Mapping[str, float] = field(hash=False)  # every class, in the dataset's class order
    attention: float = 1.0  # mean of the top class's Grad-CAM mask: how much of the picture it shows
    ignored: tuple[str, ...] = ()  # classes present only as difficult objects, under the "ignore" policy

    @property
    def prediction_set(self) -> tuple[str, ...]:
        return rules.prediction_set(self.posteriors)

    @property
    def top(self) -> str:
        return rules.top_class(self.posteriors)

    @property
    def confidence(self) -> float:
        return self.posteriors[self.top]

    @property
    def category(self) -> str:
        if set(self.prediction_set) & set(self.ignored):
            return DIFFICULT_IN_PREDICTION
        return rules.category(self.prediction_set, self.labels)

    @property
    def correct(self) -> bool:
        return self.category == rules.CORRECT

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
    audit: dict[str, Any]  # study.json's "selection": the rule, the split, the seed and every count
    shortfall: bool = False
    blank: int = 0  # eligible images passed over because their Grad-CAM mask is (almost) empty
    practice: list[Pick] = field(default_factory=list)  # shown with feedback before the questions
    unmistakable: Pick | None = None  # an attention check: its one class, the model sure of it
    instructed: Pick | None = None  # the picture behind an instructed-response attention check

    @property
    def picks(self) -> list[Pick]:
        """Every image the job renders: the questions, the practice, the example and the checks' pictures."""
        extras = (self.example, self.unmistakable, self.instructed)
        return [*self.questions, *self.practice, *(pick for pick in extras if pick is not None)]


def options_pick(*, prediction: Prediction, classes: Sequence[str], seed: int) -> tuple[str, ...]:
    """The top class, up to three other true labels, and classes absent from the picture: four, shuffled."""
    rng = random.Random(f"{seed}:{prediction.key}")  # per image, so one pick never shifts another
    others = [name for name in classes if name in prediction.labels and name != prediction.top]
    if len(others) > OPTIONS_PER_QUESTION - 1:
        others = rng.sample(others, OPTIONS_PER_QUESTION - 1)
    options = [prediction.top, *others]
    present = {*prediction.labels, *prediction.ignored, prediction.top}  # never offered as a decoy
    absent = [name for name in classes if name not in present]
    if len(absent) < OPTIONS_PER_QUESTION - len(options):
        raise RenderError(
            f"need at least {OPTIONS_PER_QUESTION} classes for the options of {prediction.key}, "
            f"have {len(classes)}"
        )
    options += rng.sample(absent, OPTIONS_PER_QUESTION - len(options))
    rng.shuffle(options)
    return tuple(options)


def counts_plan(
    *,
    right: int,
    wrong: int,
    n_correct: int,
    n_wrong: int,
    allow_shortfall: bool,
    why_not: str,
) -> tuple[int, int]:
    """How many right and wrong images to take; a short pool fails unless a shortfall is allowed."""
    if right >= n_correct and wrong >= n_wrong:
        return n_correct, n_wrong
    if not allow_shortfall:
        raise RenderError(
            f"{why_not}; {n_correct} right and {n_wrong} wrong were asked for. Train the model further, "
            "pick another split, ask for fewer questions, or allow a shortfall"
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
    difficult: str = rules.DIFFICULT_LABELS,
) -> Selection:
    """Pick right and wrong images (and one spare as the intros' example), each with its options."""
    ordered = sorted(predictions, key=lambda p: p.key)
    counts = Counter(p.category for p in ordered)
    eligible = [p for p in ordered if p.category in rules.ELIGIBLE]
    usable = [p for p in eligible if not p.blank]
    blank = len(eligible) - len(usable)
    right = [p for p in usable if p.correct]
    wrong = [p for p in usable if not p.correct]
    audit = _audit(
        counts=counts, blank=blank, images=len(ordered), split=split, seed=seed, difficult=difficult
    )
    take_right, take_wrong = counts_plan(
        right=len(right),
        wrong=len(wrong),
        n_correct=n_correct,
        n_wrong=n_wrong,
        allow_shortfall=allow_shortfall,
        why_not=pool_text(audit),
    )
    rng = random.Random(seed)
    chosen = sorted(rng.sample(right, take_right) + rng.sample(wrong, take_wrong), key=lambda p: p.key)
    spares = [p for p in right if p not in chosen] or [p for p in wrong if p not in chosen]
    example = rng.choice(spares) if spares else None
    taken = [*chosen, *([example] if example else [])]
    practice, unmistakable, instructed = extras_pick(right=right, wrong=wrong, taken=taken, rng=rng)
    audit |= {"picked_correct": take_right, "picked_incorrect": take_wrong}
    checks = sum(p is not None for p in (unmistakable, instructed))
    audit |= {"picked_practice": len(practice), "picked_attention": checks}

    def pick(p: Prediction | None) -> Pick | None:
        return None if p is None else Pick(p, options_pick(prediction=p, classes=classes, seed=seed))

    return Selection(
        questions=[pick(p) for p in chosen],
        example=pick(example),
        note=_note(audit, asked=(n_correct, n_wrong)),
        audit=audit,
        shortfall=(take_right, take_wrong) != (n_correct, n_wrong),
        blank=blank,
        practice=[pick(p) for p in practice],
        unmistakable=pick(unmistakable),
        instructed=pick(instructed),
    )


def extras_pick(
    *,
    right: Sequence[Prediction],
    wrong: Sequence[Prediction],
    taken: Sequence[Prediction],
    rng: random.Random,
) -> tuple[list[Prediction], Prediction | None, Prediction | None]:
    """From the images no question uses: practice (one right, one wrong), the unmistakable attention
    image (a right one with a single label, the most confident), and an instructed check's picture."""
    spare_right = [p for p in right if p not in taken]
    spare_wrong = [p for p in wrong if p not in taken]
    single = [p for p in spare_right if len(p.labels) == 1]
    unmistakable = max(single, key=lambda p: (p.confidence, p.key)) if single else None
    spare_right = [p for p in spare_right if p != unmistakable]
    practice = [rng.choice(pool) for pool in (spare_right, spare_wrong) if pool]
    rest = [p for p in (*spare_right, *spare_wrong) if p not in practice]
    return practice, unmistakable, rng.choice(rest) if rest else None


def _audit(
    *, counts: Counter[str], blank: int, images: int, split: str, seed: int, difficult: str
) -> dict[str, Any]:
    return {
        "rule": rules.RULE_NAME,
        "rule_text": rules.RULE_TEXT,
        "split": split,
        "seed": seed,
        "difficult": difficult,
        "images": images,
        "eligible_correct": counts[rules.CORRECT],
        "eligible_incorrect": counts[rules.INCORRECT],
        "not_eligible_partial_overlap": counts[rules.PARTIAL_OVERLAP],
        "not_eligible_empty_prediction_set": counts[rules.EMPTY_PREDICTION_SET],
        "not_eligible_no_labels": counts[rules.NO_LABELS],
        "not_eligible_difficult_in_prediction": counts[DIFFICULT_IN_PREDICTION],
        "left_out_empty_mask": blank,
    }


def pool_text(audit: Mapping[str, Any]) -> str:
    """The split's images by category, and why the others were not eligible, in one sentence."""
    text = (
        f"the {audit['split']} split has {audit['images']} images: {audit['eligible_correct']} the model "
        f"gets right (P = L) and {audit['eligible_incorrect']} it gets wrong (P and L disjoint)"
    )
    reasons = [
        f"{audit[key]} {reason}"
        for key, reason in (
            ("not_eligible_partial_overlap", WHY_NOT[rules.PARTIAL_OVERLAP]),
            ("not_eligible_empty_prediction_set", WHY_NOT[rules.EMPTY_PREDICTION_SET]),
            ("not_eligible_no_labels", WHY_NOT[rules.NO_LABELS]),
            ("not_eligible_difficult_in_prediction", WHY_NOT[DIFFICULT_IN_PREDICTION]),
        )
        if audit.get(key)
    ]
    if reasons:
        text += f"; not eligible: {', '.join(reasons)}"
    if audit.get("left_out_empty_mask"):
        text += f"; left out {audit['left_out_empty_mask']} eligible whose Grad-CAM mask is (almost) empty"
    return text


def _note(audit: Mapping[str, Any], *, asked: tuple[int, int]) -> str:
    took = (audit["picked_correct"], audit["picked_incorrect"])
    note = (
        f"{took[0]} right and {took[1]} wrong questions from the {audit['split']} split ({pool_text(audit)})."
    )
    if took != asked:
        note += f" Asked for {asked[0]} right and {asked[1]} wrong: the split had too few."
    return note
