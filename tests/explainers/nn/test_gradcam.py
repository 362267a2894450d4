from __future__ import annotations

import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam
from torch import nn

from explainers.nn.gradcam import grad_cam
from explainers.nn.saliency import Saliency
from tests.explainers.nn.builders import images, tiny_classifier


class TwoLayerNet(nn.Module):
    """A 1x1 conv copying R and G into two channels (+ ReLU), then global average pooling and a linear."""

    def __init__(self, head: list[list[float]]) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 2, 1, bias=False), nn.ReLU())
        self.classify = nn.Linear(2, len(head), bias=False)
        with torch.no_grad():
            self.features[0].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).view(2, 3, 1, 1))
            self.classify.weight.copy_(torch.tensor(head))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x).mean(dim=(2, 3)))


def two_by_two_image() -> torch.Tensor:
    red = [[1.0, 0.0], [0.0, 0.5]]
    green = [[0.0, 1.0], [0.0, 0.0]]
    blue = [[0.0, 0.0], [0.0, 0.0]]
    return torch.tensor([red, green, blue]).unsqueeze(0)


def captum_grad_cam(
    model: nn.Module, layer: nn.Module, x: torch.Tensor, classes: torch.Tensor
) -> torch.Tensor:
    maps = LayerGradCam(model, layer).attribute(x, target=classes, relu_attributions=True)
    maps = LayerAttribution.interpolate(maps, tuple(x.shape[-2:]), "bilinear").squeeze(1)
    flat = maps.flatten(1)
    low, high = flat.min(1).values.view(-1, 1, 1), flat.max(1).values.view(-1, 1, 1)
    return (maps - low) / (high - low)


def test_it_equals_a_hand_computation_on_a_two_layer_network() -> None:
    model = TwoLayerNet(head=[[2.0, -1.0], [0.0, 3.0]])
    x = two_by_two_image().repeat(2, 1, 1, 1)
    # Class 0: alpha = (2, -1) / 4 pixels, so the map is ReLU(R/2 - G/4) = [[.5, 0], [0, .25]] -> / 0.5.
    # Class 1: alpha = (0, 3) / 4, so the map is 3G/4 = [[0, .75], [0, 0]] -> / 0.75.
    expected = torch.tensor([[[1.0, 0.0], [0.0, 0.5]], [[0.0, 1.0], [0.0, 0.0]]])

    maps = grad_cam(model, model.features, x, torch.tensor([0, 1]))

    torch.testing.assert_close(maps, expected)


def test_gradcam_plus_plus_equals_a_hand_computation_on_a_two_layer_network() -> None:
    model = TwoLayerNet(head=[[4.0, 4.0], [4.0, -4.0]])
    x = two_by_two_image().repeat(2, 1, 1, 1)
    # Each pixel's gradient is the head's weight / 4 pixels; R sums to 1.5 and G to 1 over the image, so
    # alpha = g^2 / (2 g^2 + sum(A) g^3) is 1 / 3.5 for R and 1 / 3 for G where g = 1.
    # Class 0: g = (1, 1), weights 4 * (1/3.5, 1/3), so 8R/7 + 4G/3 = [[8/7, 4/3], [0, 4/7]] -> / (4/3);
    # Grad-CAM would weigh R and G alike. Class 1: g = (1, -1), and ReLU(g) leaves R only.
    expected = torch.tensor([[[6 / 7, 1.0], [0.0, 3 / 7]], [[1.0, 0.0], [0.0, 0.5]]])

    maps = grad_cam(model, model.features, x, torch.tensor([0, 1]), saliency="gradcam++")

    torch.testing.assert_close(maps, expected)


def test_gradcam_plus_plus_matches_pytorch_grad_cam_with_a_different_class_for_each_image() -> None:
    # Imported here so that where requirements-dev.txt is not installed yet, only this test fails.
    from pytorch_grad_cam import GradCAMPlusPlus
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    model, x = tiny_classifier(), images(batch=3, size=96)  # layer4 is (3, 512, 3, 3)
    classes = torch.tensor([1, 5, 19])
    # pytorch-grad-cam normalises each map to [0, 1] after ReLU, resizes it with cv2 (bilinear, as ours)
    # and normalises again, so its maps are ours up to its 1e-7 guards against division by zero.
    with GradCAMPlusPlus(model=model, target_layers=[model.layer4]) as reference:
        expected = reference(input_tensor=x, targets=[ClassifierOutputTarget(int(c)) for c in classes])

    maps = grad_cam(model, model.layer4, x, classes, saliency="gradcam++")

    assert maps.shape == (3, 96, 96)
    torch.testing.assert_close(maps, torch.from_numpy(expected), atol=1e-5, rtol=1e-4)
    assert not torch.allclose(maps, grad_cam(model, model.layer4, x, classes), atol=0.1)


def test_it_matches_captum_with_a_different_class_for_each_image() -> None:
    model, x = tiny_classifier(), images(batch=3)
    classes = torch.tensor([1, 5, 19])  # classes whose maps are not flat for these random weights

    maps = grad_cam(model, model.layer4, x, classes)

    assert maps.shape == (3, 64, 64)
    torch.testing.assert_close(maps, captum_grad_cam(model, model.layer4, x, classes), atol=1e-5, rtol=1e-4)


def test_the_map_is_the_same_whether_the_score_is_the_logit_or_the_sigmoid() -> None:
    model, x = tiny_classifier(), images(batch=2)
    classes = torch.tensor([3, 11])
    with torch.no_grad():
        model.fc.weight.mul_(0.01)  # keeps the sigmoid away from saturation, where its slope underflows
    with_sigmoid = nn.Sequential(model, nn.Sigmoid())

    torch.testing.assert_close(
        grad_cam(with_sigmoid, model.layer4, x, classes),
        grad_cam(model, model.layer4, x, classes),
        atol=1e-4,
        rtol=0,
    )


def test_a_map_with_no_positive_evidence_stays_zero_without_nan() -> None:
    model = TwoLayerNet(
        head=[[-1.0, -1.0]]
    )  # non-negative activations, negative weights: ReLU clips everything

    maps = grad_cam(model, model.features, two_by_two_image(), torch.tensor([0]))

    assert torch.equal(maps, torch.zeros(1, 2, 2))


def test_it_leaves_the_parameters_gradients_untouched() -> None:
    model = tiny_classifier()

    grad_cam(model, model.layer4, images(batch=1), torch.tensor([0]))

    assert all(parameter.grad is None for parameter in model.parameters())


def test_it_works_on_a_frozen_model() -> None:
    model = tiny_classifier().requires_grad_(False)
    x, classes = images(batch=2), torch.tensor([1, 2])

    maps = grad_cam(model, model.layer4, x, classes)

    trainable = tiny_classifier()
    torch.testing.assert_close(maps, grad_cam(trainable, trainable.layer4, x, classes))


def test_it_removes_its_hook_even_when_the_model_fails() -> None:
    class Failing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Conv2d(3, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.layer(x)
            raise RuntimeError("boom after the layer")

    model = Failing()
    with pytest.raises(RuntimeError, match="boom"):
        grad_cam(model, model.layer, images(batch=1), torch.tensor([0]))

    assert len(model.layer._forward_hooks) == 0


def test_it_refuses_to_run_under_inference_mode() -> None:
    model = tiny_classifier()

    with torch.inference_mode(), pytest.raises(RuntimeError, match=r"grad_cam .*inference_mode"):
        grad_cam(model, model.layer4, images(batch=1), torch.tensor([0]))


def test_it_accepts_images_made_under_inference_mode() -> None:
    model = tiny_classifier()
    with torch.inference_mode():
        x = images(batch=1) * 1.0

    maps = grad_cam(model, model.layer4, x, torch.tensor([4]))

    assert maps.shape == (1, 64, 64)


def test_it_wants_one_integer_class_per_image() -> None:
    model = tiny_classifier()

    with pytest.raises(ValueError, match="one integer class per image"):
        grad_cam(model, model.layer4, images(batch=2), torch.tensor([0]))


def test_it_weighs_the_channels_as_the_saliency_method_it_is_given_says() -> None:
    model = TwoLayerNet(head=[[0.0, -1.0]])  # Grad-CAM's map would be all zero
    ones = Saliency(key="ones", name="Ones", channel_weights=lambda a, g: torch.ones(a.shape[:2]))

    maps = grad_cam(model, model.features, two_by_two_image(), torch.tensor([0]), saliency=ones)

    torch.testing.assert_close(maps, torch.tensor([[[1.0, 1.0], [0.0, 0.5]]]))  # R + G, / 1


def test_an_unknown_saliency_method_is_an_error_before_the_model_runs() -> None:
    model = TwoLayerNet(head=[[1.0, 0.0]])
    passes = []
    model.register_forward_hook(lambda *_: passes.append(1))

    with pytest.raises(ValueError, match=r"unknown saliency method 'cam'; valid: gradcam, gradcam\+\+"):
        grad_cam(model, model.features, two_by_two_image(), torch.tensor([0]), saliency="cam")

    assert passes == []


def test_a_layer_the_model_never_runs_is_an_error() -> None:
    model = TwoLayerNet(head=[[1.0, 0.0]])
    unused = nn.Conv2d(3, 2, 1)

    with pytest.raises(ValueError, match="grad_cam: the given layer did not run during the model's forward"):
        grad_cam(model, unused, two_by_two_image(), torch.tensor([0]))
