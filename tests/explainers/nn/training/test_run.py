from __future__ import annotations

import pytest

from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.training.classifier import classifier_optimizer, train_classifier
from explainers.nn.training.run import epoch_resume, one_cycle_schedule
from tests.explainers.nn.builders import images, targets, tiny_classifier


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


def test_resuming_with_another_lr_warns_and_uses_the_new_one(tmp_path) -> None:
    model, loader, lines = tiny_classifier(), [(images(batch=2), targets([0], [1]))], []
    train_classifier(model, loader, loader, epochs=1, lr=1e-3, out=tmp_path / "c.pt", progress=False)
    resume = checkpoint_load(tmp_path / "c.pt", kind="classifier")
    optimizer = classifier_optimizer(model, lr=5e-4)

    start = epoch_resume(optimizer, resume, {"lr": 5e-4, "head_lr_factor": 10}, lines.append)

    assert start == 1
    assert [group["lr"] for group in optimizer.param_groups] == [5e-4, 5e-3]
    assert lines == ["warning: resuming with lr 0.0005, but the checkpoint trained with 0.001"]
