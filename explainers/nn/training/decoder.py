"""Training D: inverting a frozen E under the perception loss, with val reconstruction metrics per epoch."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.amp import GradScaler
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import Dataset
from tqdm import tqdm

from explainers.nn.classifier import Classifier
from explainers.nn.data import data_loader, images_of
from explainers.nn.decoder import Decoder, decoder_save
from explainers.nn.device import autocast, grad_scaler, model_device
from explainers.nn.losses import LossWeights, PerceptionLoss
from explainers.nn.metrics import Metrics, decoder_evaluate
from explainers.nn.training.run import Log, optimizer_step, run_start


def train_decoder(
    classifier: Classifier,
    decoder: Decoder,
    train_loader: Iterable,
    val_loader: Iterable,
    *,
    epochs: int,
    lr: float = 1e-4,
    weights: LossWeights | None = None,
    one_cycle: bool = False,
    settings: dict[str, Any] | None = None,
    out: Path | str | None = None,
    resume: dict[str, Any] | None = None,
    progress: bool = True,
    log: Log = print,
) -> list[Metrics]:
    """Train D against a frozen E with Adam; after each epoch, log val metrics and rewrite the checkpoint.

    Batches from ``EncodedImages`` bring their z. ``one_cycle``, ``settings`` and ``resume`` as for
    ``train_classifier``.
    """
    classifier.eval().requires_grad_(False)  # frozen, but still differentiable with respect to its input
    loss = PerceptionLoss(classifier, weights)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    run = run_start(
        optimizer, train_loader, model_device(decoder), epochs=epochs, one_cycle=one_cycle, resume=resume,
        log=log, lr=lr, loss_weights=asdict(loss.weights), **(settings or {}),
    )  # fmt: skip
    start, schedule, scaler, train = run.start, run.schedule, run.scaler, run.settings
    history = []
    for epoch in range(start + 1, epochs + 1):
        desc = f"decoder {epoch}/{epochs}"
        metrics = {
            "epoch": epoch,
            **decoder_epoch(
                classifier, decoder, loss, train_loader, optimizer, desc, progress, schedule, scaler
            ),
        }
        metrics.update(decoder_evaluate(classifier, decoder, val_loader))
        log(decoder_summary(metrics))
        if out is not None:
            decoder_save(
                decoder, out, epoch=epoch, metrics=metrics, optimizer=optimizer.state_dict(), train=train
            )
        history.append(metrics)
    return history


def decoder_epoch(
    classifier: Classifier,
    decoder: Decoder,
    loss: PerceptionLoss,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    desc: str,
    progress: bool,
    schedule: LRScheduler | None = None,
    scaler: GradScaler | None = None,
) -> dict[str, float]:
    """One pass over ``loader``; the mean of each loss term, as ``train_<term>``."""
    device, totals, count = model_device(decoder), {}, 0
    decoder.train()
    bar = tqdm(loader, desc=desc, disable=not progress, leave=False)
    for batch in bar:
        x = images_of(batch).to(device, non_blocking=True)
        z = batch["z"].to(device, non_blocking=True) if isinstance(batch, dict) else None
        terms = decoder_step(classifier, decoder, loss, x, optimizer, z, scaler)
        if schedule is not None:
            schedule.step()
        totals = {name: totals.get(name, 0.0) + value * len(x) for name, value in terms.items()}
        count += len(x)
        bar.set_postfix(loss=f"{terms['total']:.4f}")
    return {f"train_{name}": total / max(count, 1) for name, total in totals.items()}


def decoder_step(
    classifier: Classifier,
    decoder: Decoder,
    loss: PerceptionLoss,
    x: Tensor,
    optimizer: torch.optim.Optimizer,
    z: Tensor | None = None,
    scaler: GradScaler | None = None,
) -> dict[str, float]:
    """One step: z = E(x) once, without a graph (unless given); y = D(z); the loss reaches D through E(y)."""
    device = x.device
    if z is None:
        with torch.no_grad(), autocast(device):
            z = classifier.encode(x)
    with autocast(device):
        terms = loss(decoder(z), x, z)
    optimizer_step(terms.total, optimizer, scaler or grad_scaler(device))
    return {name: float(value.detach()) for name, value in terms._asdict().items()}


def decoder_summary(metrics: Metrics) -> str:
    return (
        f"epoch {metrics['epoch']}: train loss {metrics.get('train_total', math.nan):.4f}, val MSE "
        f"{metrics['mse']:.4f}, SSIM {metrics['ssim']:.4f}, PSNR {metrics['psnr']:.2f} dB, DSIM "
        f"{metrics['dsim']:.4f}, top-class agreement {metrics['agreement']:.1%}"
    )


class EncodedImages(Dataset):
    """Unaugmented images with their features z = E(x), computed once, as {"image", "z"} items.

    E is frozen while D trains, so z is the same every epoch and ``train_decoder`` need not run E on
    x again. Everything is held in memory: meant for small sets such as the demo's, not VOC at 224 px.
    """

    def __init__(self, classifier: Classifier, dataset: Dataset, batch_size: int = 64) -> None:
        device, images, features = model_device(classifier), [], []
        classifier.eval()
        # no_grad, not inference_mode: D's first layer saves z for its backward pass.
        with torch.no_grad(), autocast(device):
            for batch in data_loader(dataset, batch_size=batch_size, shuffle=False):
                x = images_of(batch)
                images.append(x)
                features.append(classifier.encode(x.to(device)).float().cpu())
        self.images, self.features = torch.cat(images), torch.cat(features)  # (N, 3, S, S), (N, K, h, w)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"image": self.images[index], "z": self.features[index]}
