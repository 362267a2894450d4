"""The paper's rule for which images may become questions (section 4), in one place and without Django.

The prediction set P of an image is the classes whose posterior is above 0.5; L is its true labels.
- "correct": P equals L and is not empty: the model named exactly what is in the picture.
- "incorrect": P is not empty and shares no class with L: everything it named is absent.
- Not eligible: a partial overlap (P and L share some classes but differ), or an empty P.
The asked (and explained) class is the top class, which is in P whenever P is not empty.
Both the question selection that builds a study and the bundle validation that imports one use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

THRESHOLD = 0.5  # a class is predicted when its posterior is above this
RULE_NAME = "paper-section-4"
RULE_TEXT = (
    "P = classes with posterior > 0.5; correct when P = L and P is not empty; incorrect when P is not "
    "empty and P and L share no class; partial overlaps and empty P are not eligible"
)

CORRECT = "correct"
INCORRECT = "incorrect"
PARTIAL_OVERLAP = "partial_overlap"
EMPTY_PREDICTION_SET = "empty_prediction_set"
NO_LABELS = "no_labels"
ELIGIBLE = (CORRECT, INCORRECT)

# The difficult-object policy: "labels" counts them as true labels (the authors'); "ignore" leaves
# classes seen only as difficult objects out of L, as VOC's evaluation ignores them.
DIFFICULT_LABELS = "labels"
DIFFICULT_IGNORE = "ignore"
DIFFICULT_POLICIES = (DIFFICULT_LABELS, DIFFICULT_IGNORE)


def prediction_set(posteriors: Mapping[str, float]) -> tuple[str, ...]:
    """Classes with posterior above the threshold, highest first (ties keep the mapping's order)."""
    above = [name for name, value in posteriors.items() if value > THRESHOLD]
    return tuple(sorted(above, key=lambda name: -posteriors[name]))


def top_class(posteriors: Mapping[str, float]) -> str:
    """The class with the highest posterior (the first of them on a tie)."""
    return max(posteriors, key=lambda name: posteriors[name])


def category(predicted: Iterable[str], labels: Iterable[str]) -> str:
    """Which of the rule's categories an image with prediction set ``predicted`` and ``labels`` is in."""
    predicted, labels = set(predicted), set(labels)
    if not labels:
        return NO_LABELS
    if not predicted:
        return EMPTY_PREDICTION_SET
    if predicted == labels:
        return CORRECT
    if not predicted & labels:
        return INCORRECT
    return PARTIAL_OVERLAP
