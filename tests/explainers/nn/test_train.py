from __future__ import annotations

import math
from contextlib import AbstractContextManager

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from explainers.nn import train
from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.classifier import ClassifierConfig, classifier_build
from explainers.nn.data import IGNORED, VOC_CLASSES
from explainers.nn.decoder import decoder_load
from explainers.nn.losses import LossWeights, PerceptionLoss
from explainers.nn.train import (
    EncodedImages,
    amp_dtype,
    average_precision,
    classifier_epoch,
    classifier_evaluate,
    classifier_optimizer,
    decoder_evaluate,
    decoder_step,
    device_pick,
    masked_bce,
    one_cycle_schedule,
    train_classifier,
    train_decoder,
)
from tests.explainers.nn.builders import images, tiny_classifier, tiny_decoder


def targets(*positives: list[int]) -> torch.Tensor:
    multi_hot = torch.zeros(len(positives), 20)
    for row, classes in enumerate(positives):
        multi_hot[row, classes] = 1
    return multi_hot


def test_average_precision_is_the_mean_precision_at_each_positive() -> None:
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])

    assert average_precision(scores, torch.tensor([True, False, True, False])) == pytest.approx(
        (1 + 2 / 3) / 2
    )
    assert average_precision(scores, torch.tensor([False, False, False, True])) == pytest.approx(0.25)
    assert math.isnan(average_precision(scores, torch.zeros(4, dtype=torch.bool)))


def test_classifier_evaluation_gives_ap_per_class_and_their_mean_over_present_classes() -> None:
    model = tiny_classifier()
    loader = [(images(batch=2), targets([0, 3], [3])), (images(batch=2, seed=1), targets([5], []))]

    metrics = classifier_evaluate(model, loader)

    assert list(metrics["ap"]) == list(VOC_CLASSES)
    present = [metrics["ap"][VOC_CLASSES[k]] for k in (0, 3, 5)]
    assert not any(math.isnan(ap) for ap in present)
    assert math.isnan(metrics["ap"]["dog"])
    assert metrics["map"] == pytest.approx(sum(present) / 3)


def test_a_few_classifier_steps_on_a_fixed_batch_reduce_the_bce() -> None:
    model = tiny_classifier()
    batch = [(images(batch=4, size=32), targets([0], [1, 2], [3], [0, 19]))]
    optimizer = classifier_optimizer(model, lr=1e-3)

    losses = [classifier_epoch(model, batch, optimizer, "test", progress=False) for _ in range(4)]

    assert losses[-1] < 0.5 * losses[0]


def test_a_few_decoder_steps_on_a_fixed_batch_reduce_the_loss() -> None:
    classifier = tiny_classifier().requires_grad_(False)
    decoder = tiny_decoder(classifier).train()
    loss = PerceptionLoss(classifier)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)
    x = images(batch=2, size=32)

    totals = [decoder_step(classifier, decoder, loss, x, optimizer)["total"] for _ in range(8)]

    assert min(totals[-3:]) < 0.8 * totals[0]
    assert all(parameter.grad is None for parameter in classifier.parameters())


def test_decoder_evaluation_reports_reconstruction_quality_and_agreement() -> None:
    classifier = tiny_classifier()
    decoder = tiny_decoder(classifier)

    metrics = decoder_evaluate(classifier, decoder, [images(batch=1)])

    assert set(metrics) == {"mse", "ssim", "psnr", "dsim", "agreement"}
    assert metrics["psnr"] == pytest.approx(10 * math.log10(1 / metrics["mse"]), rel=1e-5)
    assert -1 <= metrics["ssim"] <= 1 and metrics["dsim"] > 0 and metrics["agreement"] in (0.0, 1.0)


def test_decoder_training_saves_every_epoch_and_resumes_where_it_stopped(tmp_path) -> None:
    classifier = tiny_classifier()
    loader = [images(batch=2)]
    first = train_decoder(
        classifier, tiny_decoder(classifier), loader, loader, epochs=1, out=tmp_path / "d.pt", progress=False
    )
    resume = checkpoint_load(tmp_path / "d.pt", kind="decoder")

    second = train_decoder(
        classifier,
        decoder_load(tmp_path / "d.pt"),
        loader,
        loader,
        epochs=2,
        out=tmp_path / "d.pt",
        resume=resume,
        progress=False,
        log=lambda line: None,
    )

    assert [m["epoch"] for m in first] == [1] and [m["epoch"] for m in second] == [2]
    assert checkpoint_load(tmp_path / "d.pt", kind="decoder")["epoch"] == 2
    assert {"mse", "ssim", "psnr", "dsim", "agreement", "train_total"} <= set(second[0])


def test_auto_picks_cuda_only_when_there_is_one() -> None:
    assert device_pick("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert device_pick("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="no usable CUDA"):
        device_pick("cuda")


def test_one_cycle_warms_up_to_the_given_rates_then_anneals_to_almost_nothing() -> None:
    model = tiny_classifier()
    optimizer = classifier_optimizer(model, lr=1e-3, head_lr_factor=1)
    schedule = one_cycle_schedule(optimizer, epochs=2, steps=5, resume=None)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()

    peak = rates.index(max(rates))
    assert rates[0] < 1e-4 and max(rates) == pytest.approx(1e-3) and rates[-1] < 1e-4
    assert peak < 3  # the warm-up is a fifth of the run
    assert rates[: peak + 1] == sorted(rates[: peak + 1])
    assert rates[peak:] == sorted(rates[peak:], reverse=True)


def test_one_cycle_cannot_resume_a_run() -> None:
    model = tiny_classifier()
    loader = [(images(batch=2), targets([0], [1]))]

    with pytest.raises(ValueError, match="one-cycle schedule spans a whole run"):
        train_classifier(model, loader, loader, epochs=2, one_cycle=True, resume={"epoch": 1}, progress=False)


def test_encoded_images_hold_each_image_with_its_features() -> None:
    classifier, x = tiny_classifier(), images(batch=3)

    encoded = EncodedImages(classifier, TensorDataset(x), batch_size=2)

    with torch.no_grad():
        z = classifier.encode(x)
    assert len(encoded) == 3
    torch.testing.assert_close(encoded[2]["image"], x[2])
    torch.testing.assert_close(encoded[2]["z"], z[2])


def test_a_decoder_learns_the_same_from_encoded_images_as_from_the_images() -> None:
    classifier, x = tiny_classifier(), images(batch=4)
    plain = DataLoader(TensorDataset(x), batch_size=2)
    encoded = DataLoader(EncodedImages(classifier, TensorDataset(x)), batch_size=2)
    decoders = [tiny_decoder(classifier, seed=3), tiny_decoder(classifier, seed=3)]

    for decoder, loader in zip(decoders, (plain, encoded), strict=True):
        train_decoder(
            classifier, decoder, loader, plain, epochs=1, lr=1e-2, progress=False, log=lambda line: None
        )

    for first, second in zip(decoders[0].parameters(), decoders[1].parameters(), strict=True):
        torch.testing.assert_close(first, second)


def test_average_precision_leaves_out_the_entries_that_do_not_count() -> None:
    scores = torch.tensor([0.9, 0.8, 0.7])
    positives = torch.tensor([False, False, True])

    assert average_precision(scores, positives) == pytest.approx(1 / 3)
    assert average_precision(scores, positives, torch.tensor([False, True, True])) == pytest.approx(1 / 2)


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

    monkeypatch.setattr(train, "autocast", cpu_bf16)
    model, head_dtypes = tiny_classifier(), []
    model.fc.register_forward_hook(lambda module, inputs, output: head_dtypes.append(output.dtype))

    classifier_evaluate(model, [(images(batch=2), targets([0], [1]))])

    assert head_dtypes == [torch.float32]


def test_mixed_precision_is_bf16_where_the_gpu_has_it_else_fp16_and_off_on_the_cpu() -> None:
    assert amp_dtype(torch.device("cuda"), bf16_supported=True) is torch.bfloat16
    assert amp_dtype(torch.device("cuda"), bf16_supported=False) is torch.float16
    assert amp_dtype(torch.device("cpu"), bf16_supported=True) is None


def test_a_checkpoint_records_how_it_was_trained(tmp_path) -> None:
    model, loader = tiny_classifier(), [(images(batch=2), targets([0], [1]))]

    train_classifier(
        model,
        loader,
        loader,
        epochs=1,
        lr=1e-3,
        settings={"split": "train"},
        out=tmp_path / "c.pt",
        progress=False,
        log=lambda line: None,
    )

    recorded = checkpoint_load(tmp_path / "c.pt", kind="classifier")["train"]
    assert recorded["lr"] == 1e-3 and recorded["epochs"] == 1 and recorded["split"] == "train"
    assert recorded["head_lr_factor"] == 10 and recorded["one_cycle"] is False


def test_resuming_with_another_lr_warns_and_uses_the_new_one(tmp_path) -> None:
    model, loader, lines = tiny_classifier(), [(images(batch=2), targets([0], [1]))], []
    train_classifier(model, loader, loader, epochs=1, lr=1e-3, out=tmp_path / "c.pt", progress=False)
    resume = checkpoint_load(tmp_path / "c.pt", kind="classifier")
    optimizer = classifier_optimizer(model, lr=5e-4)

    start = train.epoch_resume(optimizer, resume, {"lr": 5e-4, "head_lr_factor": 10}, lines.append)

    assert start == 1
    assert [group["lr"] for group in optimizer.param_groups] == [5e-4, 5e-3]
    assert lines == ["warning: resuming with lr 0.0005, but the checkpoint trained with 0.001"]


def test_resuming_a_decoder_with_other_loss_weights_warns(tmp_path) -> None:
    classifier, loader, lines = tiny_classifier(), [images(batch=2)], []
    decoder = tiny_decoder(classifier)
    train_decoder(classifier, decoder, loader, loader, epochs=1, out=tmp_path / "d.pt", progress=False)
    resume = checkpoint_load(tmp_path / "d.pt", kind="decoder")

    weights = LossWeights(mse=0.5, ssim=0.5, dsim=0.0)
    train_decoder(
        classifier,
        decoder,
        loader,
        loader,
        epochs=1,
        weights=weights,
        resume=resume,
        progress=False,
        log=lines.append,
    )

    assert resume["train"]["loss_weights"] == {"mse": 0.2, "ssim": 0.4, "dsim": 0.4}
    assert lines and lines[0].startswith("warning: resuming with loss_weights {'mse': 0.5")
