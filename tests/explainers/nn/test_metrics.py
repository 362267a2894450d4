from __future__ import annotations

import math
from contextlib import AbstractContextManager

import pytest
import torch

from explainers.nn import metrics
from explainers.nn.classifier import ClassifierConfig, classifier_build
from explainers.nn.data import IGNORED, VOC_CLASSES
from explainers.nn.metrics import (
    average_precision,
    classifier_evaluate,
    decoder_evaluate,
    masked_bce,
)
from tests.explainers.nn.builders import images, targets, tiny_classifier, tiny_decoder


def test_average_precision_is_the_mean_precision_at_each_positive() -> None:
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])

    assert average_precision(scores, torch.tensor([True, False, True, False])) == pytest.approx(
        (1 + 2 / 3) / 2
    )
    assert average_precision(scores, torch.tensor([False, False, False, True])) == pytest.approx(0.25)
    assert math.isnan(average_precision(scores, torch.zeros(4, dtype=torch.bool)))


def test_average_precision_leaves_out_the_entries_that_do_not_count() -> None:
    scores = torch.tensor([0.9, 0.8, 0.7])
    positives = torch.tensor([False, False, True])

    assert average_precision(scores, positives) == pytest.approx(1 / 3)
    assert average_precision(scores, positives, torch.tensor([False, True, True])) == pytest.approx(1 / 2)


def test_classifier_evaluation_gives_ap_per_class_and_their_mean_over_present_classes() -> None:
    model = tiny_classifier()
    loader = [(images(batch=2), targets([0, 3], [3])), (images(batch=2, seed=1), targets([5], []))]

    metrics = classifier_evaluate(model, loader)

    assert list(metrics["ap"]) == list(VOC_CLASSES)
    present = [metrics["ap"][VOC_CLASSES[k]] for k in (0, 3, 5)]
    assert not any(math.isnan(ap) for ap in present)
    assert math.isnan(metrics["ap"]["dog"])
    assert metrics["map"] == pytest.approx(sum(present) / 3)


def test_the_bce_leaves_out_ignored_targets() -> None:
    logits = torch.tensor([[2.0, -1.0, 5.0]])
    target = torch.tensor([[1.0, 0.0, IGNORED]])

    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, :2], target[:, :2])
    torch.testing.assert_close(masked_bce(logits, target), expected)


def test_a_confident_score_on_a_difficult_only_class_is_no_false_positive() -> None:
    model = tiny_classifier()
    x = images(batch=2)
    with torch.no_grad():
        scores = model(x)[:, 0]
    high, low = int(scores.argmax()), int(scores.argmin())
    target = torch.zeros(2, 20)
    target[low, 0], target[high, 0] = 1, IGNORED  # the top-scored image holds only difficult aeroplanes

    metrics = classifier_evaluate(model, [(x, target)])

    assert metrics["ap"]["aeroplane"] == pytest.approx(1.0)


def test_evaluation_names_the_models_own_classes() -> None:
    torch.manual_seed(0)
    model = classifier_build(ClassifierConfig(arch="resnet18", num_classes=3, image_size=64)).eval()
    loader = [(images(batch=2), torch.tensor([[1.0, 0, 0], [0, 1, 1]]))]

    assert list(classifier_evaluate(model, loader)["ap"]) == ["class_0", "class_1", "class_2"]
    assert list(classifier_evaluate(model, loader, ["a", "b", "c"])["ap"]) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2 class names given for a classifier with 3 classes"):
        classifier_evaluate(model, loader, ["a", "b"])


def test_evaluation_scores_in_float32_even_when_the_backbone_runs_in_bf16(monkeypatch) -> None:
    def cpu_bf16(device: torch.device) -> AbstractContextManager:
        return torch.autocast("cpu", dtype=torch.bfloat16)

    monkeypatch.setattr(metrics, "autocast", cpu_bf16)
    model, head_dtypes = tiny_classifier(), []
    model.fc.register_forward_hook(lambda module, inputs, output: head_dtypes.append(output.dtype))

    classifier_evaluate(model, [(images(batch=2), targets([0], [1]))])

    assert head_dtypes == [torch.float32]


def test_decoder_evaluation_reports_reconstruction_quality_and_agreement() -> None:
    classifier = tiny_classifier()
    decoder = tiny_decoder(classifier)

    metrics = decoder_evaluate(classifier, decoder, [images(batch=1)])

    assert set(metrics) == {"mse", "ssim", "psnr", "dsim", "agreement"}
    assert metrics["psnr"] == pytest.approx(10 * math.log10(1 / metrics["mse"]), rel=1e-5)
    assert -1 <= metrics["ssim"] <= 1 and metrics["dsim"] > 0 and metrics["agreement"] in (0.0, 1.0)
