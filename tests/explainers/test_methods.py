"""The explanation methods: each one's image on known tensors, and the lookups every app goes through."""

from __future__ import annotations

import pytest
import torch

from explainers.methods import DEFAULT_METHODS, METHODS, TASK_CHECK, method_get, methods_parse
from explainers.nn.perception import Explanation
from survey.services.studies import comprehension_problems

MASK = torch.tensor([[[0.0, 1.0], [0.5, 0.25]]])  # (1, 2, 2)
IMAGES = torch.full((1, 3, 2, 2), 0.4)  # x
RECONSTRUCTIONS = torch.full((1, 3, 2, 2), 0.2)  # y


def explanation() -> Explanation:
    """explain()'s outputs for one 2x2 image, built by hand from the mask, x and y."""
    m = MASK.unsqueeze(1)  # (1, 1, 2, 2)
    return Explanation(
        posteriors=torch.tensor([[0.9]]),
        prediction_sets=torch.tensor([[True]]),
        classes=torch.tensor([0]),
        masks=MASK,
        reconstructions=RECONSTRUCTIONS,
        pv=(1 - m) + m * RECONSTRUCTIONS,
        gradcam=(1 - m) + m * IMAGES,
    )


def rendered(key: str) -> torch.Tensor:
    return METHODS[key].render(IMAGES, explanation())


def test_the_gradcam_method_shows_the_input_through_the_mask() -> None:
    torch.testing.assert_close(rendered("gradcam")[0, 0], torch.tensor([[1.0, 0.4], [0.7, 0.85]]))


def test_the_pv_method_shows_the_reconstruction_through_the_mask() -> None:
    torch.testing.assert_close(rendered("pv")[0, 0], torch.tensor([[1.0, 0.2], [0.6, 0.8]]))


def test_the_no_explanation_baseline_shows_the_input_alone() -> None:
    torch.testing.assert_close(rendered("none"), IMAGES)


def test_the_reconstruction_method_shows_y_without_a_mask() -> None:
    torch.testing.assert_close(rendered("reconstruction"), RECONSTRUCTIONS)


def test_pv_with_gradcam_puts_pv_left_and_gradcam_right_on_a_white_gap() -> None:
    image = METHODS["pv_gradcam"].render(IMAGES, explanation())

    assert image.shape == (1, 3, 2, 4)  # 2 + a gap of 2 // 16 = 0 columns + 2
    torch.testing.assert_close(image[..., :2], explanation().pv)
    torch.testing.assert_close(image[..., 2:], explanation().gradcam)


def test_every_method_has_a_name_an_introduction_and_says_whether_it_needs_the_decoder() -> None:
    for key, method in METHODS.items():
        assert method.key == key
        assert method.name and method.intro and method.reading
        assert method.introduction.startswith(method.intro)
    needing = {key for key, method in METHODS.items() if method.needs_decoder}
    assert needing >= {"pv", "reconstruction", "pv_gradcam"}
    assert not needing & {"gradcam", "none"}


def test_the_default_methods_are_the_papers_two() -> None:
    assert [m.key for m in methods_parse(",".join(DEFAULT_METHODS))] == ["gradcam", "pv"]


def test_methods_are_parsed_in_the_order_given() -> None:
    assert [m.key for m in methods_parse("none, pv,gradcam")] == ["none", "pv", "gradcam"]


def test_an_unknown_or_repeated_method_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown explanation method 'lime'; known: gradcam, pv, none"):
        method_get("lime")
    with pytest.raises(ValueError, match="explanation method pv is named more than once"):
        methods_parse("pv,gradcam,pv")
    with pytest.raises(ValueError, match="name at least one explanation method"):
        methods_parse("")


def test_the_gradcam_heatmap_blends_the_jet_colours_of_the_mask_over_the_input() -> None:
    image = rendered("gradcam_heatmap")

    # Mask 1 is dark red (0.5, 0, 0) in jet and mask 0 dark blue (0, 0, 0.5), each blended half and half.
    torch.testing.assert_close(image[0, :, 0, 1], torch.tensor([0.45, 0.2, 0.2]))
    torch.testing.assert_close(image[0, :, 0, 0], torch.tensor([0.2, 0.2, 0.45]))
    assert not METHODS["gradcam_heatmap"].needs_decoder


def test_every_method_asks_about_the_task_then_how_to_read_its_picture() -> None:
    for method in METHODS.values():
        items = [
            {"prompt": c.prompt, "choices": list(c.choices), "answer": c.answer} for c in method.comprehension
        ]
        assert comprehension_problems(where=method.key, items=items) == []
        assert method.comprehension[0] == TASK_CHECK
    assert len({method.check.prompt for method in METHODS.values()}) == len(METHODS)
