"""The explanation methods a study can compare, each defined once.

A method has a key (the study's condition key), the name participants and researchers see, the
participant's introduction and how to read the picture, the comprehension questions asked after the
introduction (a condition's defaults in every bundle written from here), whether it needs the decoder, and
how it turns the batched outputs of one shared pass of E (``explainers.nn.perception.explain``) into its
image.
Rendering, the bundle writer, the demo and the admin take names and texts from here; the survey and the
analysis read them from the study (its conditions), which was written from here.

Adding a method is one ``Method`` in ``METHODS`` plus its test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch only where images are made: the admin and the survey never need it
    from torch import Tensor

    from explainers.nn.perception import Explanation

INPUT = "input"  # not a method: the photo itself, which every question shows beside its explanation
RECONSTRUCTION = "reconstruction"  # D(E(x)): every render keeps it for researchers, shown or not


@dataclass(frozen=True)
class Comprehension:
    """A multiple-choice question on how to read the explanation; asked until answered right."""

    prompt: str
    choices: tuple[str, ...]
    answer: str  # one of the choices


# Every condition first checks that the task itself is understood: the model's guess, not the photo's truth.
TASK_CHECK = Comprehension(
    prompt="What is your task for each picture?",
    choices=(
        "Name the object I see in the photo",
        "Guess what the model predicted, right or wrong",
        "Judge how good the explanation looks",
    ),
    answer="Guess what the model predicted, right or wrong",
)


@dataclass(frozen=True)
class Method:
    key: str  # the condition key in study.json and in the database
    name: str  # shown to participants (in the introduction) and to researchers
    intro: str  # the participant's introduction: what the explanation shows
    reading: str  # how to read it to guess the model's prediction
    check: Comprehension  # how to read this method's picture, asked after TASK_CHECK
    needs_decoder: bool  # whether its image uses D's reconstruction y
    render: Callable[[Tensor, Explanation], Tensor]  # (images (B, 3, H, W), explain()'s outputs) -> images

    @property
    def introduction(self) -> str:
        """The whole text of the condition's introduction page."""
        return f"{self.intro} {self.reading}"

    @property
    def comprehension(self) -> tuple[Comprehension, ...]:
        """The condition's default comprehension questions: the task, then how to read this picture."""
        return (TASK_CHECK, self.check)


def _gradcam(images: Tensor, explanation: Explanation) -> Tensor:
    return explanation.gradcam  # (1 - m) + m * x


def _pv(images: Tensor, explanation: Explanation) -> Tensor:
    return explanation.pv  # (1 - m) + m * y


def _none(images: Tensor, explanation: Explanation) -> Tensor:
    return images


def _reconstruction(images: Tensor, explanation: Explanation) -> Tensor:
    return explanation.reconstructions


def _gradcam_heatmap(images: Tensor, explanation: Explanation) -> Tensor:
    from explainers.nn.perception import heatmap_overlay

    return heatmap_overlay(explanation.masks, images)


def _pv_gradcam(images: Tensor, explanation: Explanation) -> Tensor:
    from explainers.nn.perception import side_by_side

    return side_by_side(explanation.pv, explanation.gradcam)  # (B, 3, H, 2W + gap)


GUESS = "Use it to guess what the model predicted."
METHODS: dict[str, Method] = {
    method.key: method
    for method in (
        Method(
            key="gradcam",
            name="Grad-CAM",
            intro=(
                "Each picture comes with a Grad-CAM explanation. Grad-CAM shows where the model looked: "
                "the part of the picture that is still visible is the region that mattered most for its "
                "decision, and the faded, white part mattered little."
            ),
            reading=f"Look at the parts the model focused on. {GUESS}",
            check=Comprehension(
                prompt="In a Grad-CAM explanation, what does the part of the photo still visible show?",
                choices=(
                    "Where the model looked to make its decision",
                    "What the model imagines the object looks like",
                    "The parts of the photo the model ignored",
                ),
                answer="Where the model looked to make its decision",
            ),
            needs_decoder=False,
            render=_gradcam,
        ),
        Method(
            key="pv",
            name="Perception Visualization",
            intro=(
                "Each picture comes with a Perception Visualization (PV). PV shows what the model sees: an "
                "image rebuilt from the model's internal representation of the picture, shown only where the "
                "model looked. Where it paid little attention, the picture is white."
            ),
            reading=(
                "The reconstruction may look blurry or strange, and may differ from the photo: that is how "
                f"the model perceives it. Look at what the model saw. {GUESS}"
            ),
            check=Comprehension(
                prompt="In a Perception Visualization, what does the picture show where it is not white?",
                choices=(
                    "The photo itself, unchanged",
                    "What the model perceived there, rebuilt from its internal representation",
                    "The parts of the photo the model ignored",
                ),
                answer="What the model perceived there, rebuilt from its internal representation",
            ),
            needs_decoder=True,
            render=_pv,
        ),
        Method(
            key="none",
            name="No explanation",
            intro="Each picture is shown as the model saw it, without any explanation of its decision.",
            reading=f"Think about what a model would most likely name in the picture. {GUESS}",
            check=Comprehension(
                prompt="What is shown next to each photo?",
                choices=(
                    "Where the model looked",
                    "What the model perceived",
                    "The photo as the model saw it, with no explanation",
                ),
                answer="The photo as the model saw it, with no explanation",
            ),
            needs_decoder=False,
            render=_none,
        ),
        Method(
            key="reconstruction",
            name="Reconstruction",
            intro=(
                "Each picture comes with the model's reconstruction of it: an image rebuilt from the model's "
                "internal representation, showing what it perceived in the whole picture."
            ),
            reading=f"Look at what the model seems to have seen. {GUESS}",
            check=Comprehension(
                prompt="What does the reconstruction next to each photo show?",
                choices=(
                    "What the model perceived in the whole photo, rebuilt from its representation",
                    "A sharper copy of the photo",
                    "Only where the model looked",
                ),
                answer="What the model perceived in the whole photo, rebuilt from its representation",
            ),
            needs_decoder=True,
            render=_reconstruction,
        ),
        Method(
            key="gradcam_heatmap",
            name="Grad-CAM heat map",
            intro=(
                "Each picture comes with a Grad-CAM heat map laid over it. Red and yellow mark the regions "
                "that mattered most for the model's decision; blue marks those that mattered little."
            ),
            reading=f"Look at what lies under the warm colours. {GUESS}",
            check=Comprehension(
                prompt="What do the red and yellow regions of the heat map mark?",
                choices=(
                    "The regions the model ignored",
                    "The regions that mattered most for the model's decision",
                    "The brightest parts of the photo",
                ),
                answer="The regions that mattered most for the model's decision",
            ),
            needs_decoder=False,
            render=_gradcam_heatmap,
        ),
        Method(
            key="pv_gradcam",
            name="PV and Grad-CAM",
            intro=(
                "Each picture comes with two explanations side by side. On the left, a Perception "
                "Visualization: an image rebuilt from the model's internal representation, showing what the "
                "model perceived where it looked. On the right, Grad-CAM: the photo itself, shown only where "
                "the model looked."
            ),
            reading=f"Compare what the model saw (left) with where it looked (right). {GUESS}",
            check=Comprehension(
                prompt="What do the two explanations side by side show?",
                choices=(
                    "Left, what the model perceived where it looked; right, the photo where it looked",
                    "Left, the photo; right, the model's answer",
                    "The same photo at two sizes",
                ),
                answer="Left, what the model perceived where it looked; right, the photo where it looked",
            ),
            needs_decoder=True,
            render=_pv_gradcam,
        ),
    )
}
DEFAULT_METHODS = ("gradcam", "pv")  # the paper's survey


def method_get(key: str) -> Method:
    """The method called ``key``, or a ValueError naming the known ones."""
    try:
        return METHODS[key]
    except KeyError:
        raise ValueError(f"unknown explanation method {key!r}; known: {', '.join(METHODS)}") from None


def methods_parse(keys: str | Sequence[str]) -> tuple[Method, ...]:
    """Methods from "gradcam,pv,none" or a list of keys, in that order; duplicates and unknowns refused."""
    names = [key.strip() for key in keys.split(",")] if isinstance(keys, str) else list(keys)
    if not names or any(not name for name in names):
        raise ValueError("name at least one explanation method, e.g. gradcam,pv")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"explanation method {', '.join(repeated)} is named more than once")
    return tuple(method_get(name) for name in names)
