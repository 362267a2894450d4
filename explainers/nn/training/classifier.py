"""Training M: BCE transfer learning from a pretrained backbone, with val AP/mAP after each epoch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.amp import GradScaler
from torch.optim.lr_scheduler import LRScheduler
from tqdm import tqdm

from explainers.nn.classifier import Classifier, classifier_save
from explainers.nn.device import autocast, grad_scaler, model_device
from explainers.nn.metrics import Metrics, classifier_evaluate, masked_bce
from explainers.nn.training.run import Log, optimizer_step, run_start


def classifier_optimizer(model: Classifier, lr: float, head_lr_factor: float = 10) -> torch.optim.Optimizer:
    """Adam; by default the new head learns ten times faster than the pretrained backbone."""
    head = list(model.fc.parameters())
    backbone = [p for name, p in model.named_parameters() if not name.startswith("fc.")]
    return torch.optim.Adam([{"params": backbone, "lr": lr}, {"params": head, "lr": head_lr_factor * lr}])


def classifier_epoch(
    model: Classifier,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    desc: str,
    progress: bool,
    schedule: LRScheduler | None = None,
    scaler: GradScaler | None = None,
) -> float:
    device, total, count = model_device(model), 0.0, 0
    scaler = scaler or grad_scaler(device)
    model.train()
    bar = tqdm(loader, desc=desc, disable=not progress, leave=False)
    for images, targets in bar:
        with autocast(device):
            logits = model(images.to(device, non_blocking=True))
        loss = masked_bce(logits.float(), targets.to(device))
        optimizer_step(loss, optimizer, scaler)
        if schedule is not None:
            schedule.step()
        total, count = total + loss.item() * len(images), count + len(images)
        bar.set_postfix(bce=f"{loss.item():.4f}")
    return total / max(count, 1)


def train_classifier(
    model: Classifier,
    train_loader: Iterable,
    val_loader: Iterable,
    *,
    epochs: int,
    lr: float = 1e-4,
    head_lr_factor: float = 10,
    one_cycle: bool = False,
    class_names: Sequence[str] | None = None,
    settings: dict[str, Any] | None = None,
    out: Path | str | None = None,
    resume: dict[str, Any] | None = None,
    progress: bool = True,
    log: Log = print,
) -> list[Metrics]:
    """BCE transfer learning; after each epoch, val AP/mAP are logged and the checkpoint is rewritten.

    ``resume`` is a loaded checkpoint dict (its ``optimizer`` and ``epoch``); the model holds its weights.
    ``one_cycle`` schedules the learning rates (see ``one_cycle_schedule``) instead of keeping them.
    The checkpoint's ``train`` dict records the settings, with ``settings`` (e.g. the split) added.
    """
    optimizer = classifier_optimizer(model, lr, head_lr_factor)
    run = run_start(
        optimizer, train_loader, model_device(model), epochs=epochs, one_cycle=one_cycle, resume=resume,
        log=log, lr=lr, head_lr_factor=head_lr_factor, **(settings or {}),
    )  # fmt: skip
    start, schedule, scaler, train = run.start, run.schedule, run.scaler, run.settings
    history = []
    for epoch in range(start + 1, epochs + 1):
        desc = f"classifier {epoch}/{epochs}"
        train_loss = classifier_epoch(model, train_loader, optimizer, desc, progress, schedule, scaler)
        metrics = {
            "epoch": epoch,
            "train_loss": train_loss,
            **classifier_evaluate(model, val_loader, class_names),
        }
        log(f"epoch {epoch}: BCE {train_loss:.4f}, val BCE {metrics['loss']:.4f}, mAP {metrics['map']:.4f}")
        if out is not None:
            classifier_save(
                model, out, epoch=epoch, metrics=metrics, optimizer=optimizer.state_dict(), train=train
            )
        history.append(metrics)
    return history
