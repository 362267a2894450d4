from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.data import VOC_CLASSES
from explainers.nn.decoder import decoder_load
from explainers.nn.losses import PerceptionLoss
from explainers.nn.train import (
    EncodedImages,
    average_precision,
    classifier_epoch,
    classifier_evaluate,
    classifier_optimizer,
    decoder_evaluate,
    decoder_step,
    device_pick,
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
