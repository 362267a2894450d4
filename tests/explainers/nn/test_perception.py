from __future__ import annotations

import pytest
import torch

from explainers.nn.classifier import predict
from explainers.nn.gradcam import grad_cam
from explainers.nn.perception import (
    explain,
    heatmap_overlay,
    masked_input,
    perception_visualization,
    top_class_attention,
)
from explainers.nn.saliency import GRADCAM_PLUS_PLUS
from tests.explainers.nn.builders import images, tiny_classifier, tiny_decoder

MASK = torch.tensor([[[0.0, 1.0], [0.5, 0.25]]])  # (1, 2, 2)


def test_pv_shows_the_reconstruction_through_the_mask_and_white_where_it_is_zero() -> None:
    reconstruction = torch.full((1, 3, 2, 2), 0.2)

    pv = perception_visualization(MASK, reconstruction)

    expected = torch.tensor([[1.0, 0.2], [0.6, 0.8]]).expand(1, 3, 2, 2)
    torch.testing.assert_close(pv, expected)


def test_the_gradcam_image_is_the_input_through_the_same_mask() -> None:
    x = torch.stack([torch.full((2, 2), 0.0), torch.full((2, 2), 0.4), torch.full((2, 2), 1.0)]).unsqueeze(0)

    shown = masked_input(MASK, x)

    torch.testing.assert_close(shown[0, 1], torch.tensor([[1.0, 0.4], [0.7, 0.85]]))
    torch.testing.assert_close(shown[0, 2], torch.ones(2, 2))


def test_the_heatmap_runs_from_dark_blue_to_dark_red() -> None:
    mask = torch.tensor([[[0.0, 0.5, 1.0]]])  # (1, 1, 3)

    heat = heatmap_overlay(mask, torch.zeros(1, 3, 1, 3), alpha=1.0)

    torch.testing.assert_close(heat[0, :, 0, 0], torch.tensor([0.0, 0.0, 0.5]))
    torch.testing.assert_close(heat[0, :, 0, 1], torch.tensor([0.5, 1.0, 0.5]))
    torch.testing.assert_close(heat[0, :, 0, 2], torch.tensor([0.5, 0.0, 0.0]))


def test_a_mask_of_another_size_is_refused() -> None:
    with pytest.raises(ValueError, match=r"mask \(1, 2, 2\) does not fit images \(1, 3, 4, 4\)"):
        perception_visualization(MASK, torch.zeros(1, 3, 4, 4))


def test_explain_gives_everything_the_survey_shows_from_one_pass_of_the_encoder() -> None:
    model = tiny_classifier()
    decoder, x = tiny_decoder(model), images(batch=3)
    passes = []
    handle = model.layer4.register_forward_hook(lambda *_: passes.append(1))
    try:
        explanation = explain(model, decoder, x)
    finally:
        handle.remove()

    posteriors, sets, top = predict(model, x)
    assert len(passes) == 1
    assert torch.equal(explanation.classes, top)
    torch.testing.assert_close(explanation.posteriors, posteriors)
    assert torch.equal(explanation.prediction_sets, sets)
    torch.testing.assert_close(explanation.masks, grad_cam(model, model.layer4, x, top))
    with torch.inference_mode():
        y = decoder(model.encode(x))
    torch.testing.assert_close(explanation.reconstructions, y)
    torch.testing.assert_close(explanation.pv, perception_visualization(explanation.masks, y))
    torch.testing.assert_close(explanation.gradcam, masked_input(explanation.masks, x))


def test_explain_explains_the_classes_it_is_given() -> None:
    model = tiny_classifier()
    x, classes = images(batch=2), torch.tensor([5, 19])

    explanation = explain(model, tiny_decoder(model), x, classes)

    assert torch.equal(explanation.classes, classes)
    torch.testing.assert_close(explanation.masks, grad_cam(model, model.layer4, x, classes))


def test_explain_shows_the_saliency_method_it_is_given_in_both_images() -> None:
    model = tiny_classifier()
    x, classes = images(batch=2), torch.tensor([5, 19])

    explanation = explain(model, tiny_decoder(model), x, classes, saliency="gradcam++")

    expected = grad_cam(model, model.layer4, x, classes, saliency=GRADCAM_PLUS_PLUS)
    torch.testing.assert_close(explanation.masks, expected)
    assert not torch.allclose(explanation.masks, grad_cam(model, model.layer4, x, classes), atol=0.1)
    torch.testing.assert_close(explanation.gradcam, masked_input(expected, x))
    pv = perception_visualization(expected, explanation.reconstructions)
    torch.testing.assert_close(explanation.pv, pv)


def test_explain_refuses_an_unknown_saliency_method() -> None:
    model = tiny_classifier()

    with pytest.raises(ValueError, match="unknown saliency method 'scorecam'; valid: gradcam, gradcam"):
        explain(model, tiny_decoder(model), images(batch=1), saliency="scorecam")


def test_explain_resizes_the_reconstruction_when_the_input_is_not_a_multiple_of_the_stride() -> None:
    model = tiny_classifier()

    explanation = explain(model, tiny_decoder(model), images(batch=1, size=70))

    assert explanation.reconstructions.shape == explanation.pv.shape == (1, 3, 70, 70)
    assert explanation.masks.shape == (1, 70, 70)


def test_explain_puts_the_networks_back_in_their_modes() -> None:
    model = tiny_classifier().train()
    decoder = tiny_decoder(model).train()

    explain(model, decoder, images(batch=2))

    assert model.training and decoder.training


def test_explain_refuses_to_run_under_inference_mode() -> None:
    model = tiny_classifier()

    with torch.inference_mode(), pytest.raises(RuntimeError, match=r"explain .*inference_mode"):
        explain(model, tiny_decoder(model), images(batch=1))


def test_the_attention_share_is_the_mean_of_the_mask_explain_renders() -> None:
    model, x = tiny_classifier(), images(batch=3)

    posteriors, shares = top_class_attention(model, x)

    explanation = explain(model, tiny_decoder(model), x)
    torch.testing.assert_close(posteriors, explanation.posteriors)
    torch.testing.assert_close(shares, explanation.masks.mean(dim=(1, 2)))


def test_the_attention_share_follows_the_saliency_method_explain_renders_with() -> None:
    model, x = tiny_classifier(), images(batch=3)

    _, shares = top_class_attention(model, x, saliency=GRADCAM_PLUS_PLUS)

    explanation = explain(model, tiny_decoder(model), x, saliency="gradcam++")
    torch.testing.assert_close(shares, explanation.masks.mean(dim=(1, 2)))


def test_a_top_class_with_only_negative_weights_has_no_attention_at_all() -> None:
    model, x = tiny_classifier(), images(batch=2)
    with torch.no_grad():  # layer4 ends in a ReLU, so every term of the class's map is <= 0
        model.fc.weight[7] = -model.fc.weight[7].abs()
        model.fc.bias[7] = 1000.0  # class 7 on top however negative its evidence

    posteriors, shares = top_class_attention(model, x)

    assert posteriors.argmax(dim=1).tolist() == [7, 7]
    assert shares.tolist() == [0.0, 0.0]
