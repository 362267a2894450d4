"""The explanation methods a study can compare, each defined once.

A method has a key (the study's condition key), the name participants and researchers see, the
participant's introduction and how to read the picture, whether it needs the decoder, and how it turns
the batched outputs of one shared pass of E (``explainers.nn.perception.explain``) into its image.
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
class Method:
    key: str  # the condition key in study.json and in the database
    name: str  # shown to participants (in the introduction) and to researchers
    intro: str  # the participant's introduction: what the explanation shows
    reading: str  # how to read it to guess the model's prediction
    needs_decoder: bool  # whether its image uses D's reconstruction y
    render: Callable[[Tensor, Explanation], Tensor]  # (images (B, 3, H, W), explain()'s outputs) -> images

    @property
    def introduction(self) -> str:
        """The whole text of the condition's introduction page."""
        return f"{self.intro} {self.reading}"


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
            needs_decoder=True,
            render=_pv,
        ),
        Method(
            key="none",
            name="No explanation",
            intro="Each picture is shown as the model saw it, without any explanation of its decision.",
            reading=f"Think about what a model would most likely name in the picture. {GUESS}",
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
