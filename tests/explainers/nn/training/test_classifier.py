from __future__ import annotations

import pytest

from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.training.classifier import classifier_epoch, classifier_optimizer, train_classifier
from tests.explainers.nn.builders import images, targets, tiny_classifier


def test_a_few_classifier_steps_on_a_fixed_batch_reduce_the_bce() -> None:
    model = tiny_classifier()
    batch = [(images(batch=4, size=32), targets([0], [1, 2], [3], [0, 19]))]
    optimizer = classifier_optimizer(model, lr=1e-3)

    losses = [classifier_epoch(model, batch, optimizer, "test", progress=False) for _ in range(4)]

    assert losses[-1] < 0.5 * losses[0]


def test_one_cycle_cannot_resume_a_run() -> None:
    model = tiny_classifier()
    loader = [(images(batch=2), targets([0], [1]))]

    with pytest.raises(ValueError, match="one-cycle schedule spans a whole run"):
        train_classifier(model, loader, loader, epochs=2, one_cycle=True, resume={"epoch": 1}, progress=False)


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
