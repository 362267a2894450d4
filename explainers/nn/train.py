"""Training and evaluation loops for M (transfer learning) and D (inverting a frozen E)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.amp import GradScaler
from torch.optim.lr_scheduler import LRScheduler, OneCycleLR
from torch.utils.data import Dataset
from tqdm import tqdm

from explainers.nn.classifier import Classifier, classifier_save
from explainers.nn.data import IGNORED, data_loader
from explainers.nn.decoder import Decoder, decoder_save
from explainers.nn.labels import VOC_CLASSES
from explainers.nn.losses import LossWeights, PerceptionLoss, ssim

Metrics = dict[str, Any]
Log = Callable[[str], None]


def device_pick(name: str = "auto") -> torch.device:
    """``auto`` is CUDA when present, else the CPU; asking for an absent CUDA is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but this machine has no usable CUDA")
    return device


def amp_dtype(device: torch.device, bf16_supported: bool) -> torch.dtype | None:
    """Mixed precision's type: bf16 on CUDA if the GPU has it, else fp16; None (full precision) elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if bf16_supported else torch.float16


def device_amp_dtype(device: torch.device) -> torch.dtype | None:
    return amp_dtype(device, device.type == "cuda" and torch.cuda.is_bf16_supported())


def autocast(device: torch.device) -> AbstractContextManager:
    """Mixed precision on CUDA (see ``amp_dtype``); full precision elsewhere."""
    dtype = device_amp_dtype(device)
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def grad_scaler(device: torch.device) -> GradScaler:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 need none (the scaler passes through)."""
    return GradScaler(device.type, enabled=device_amp_dtype(device) == torch.float16)


def optimizer_step(loss: Tensor, optimizer: torch.optim.Optimizer, scaler: GradScaler) -> None:
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def images_of(batch: Tensor | tuple | list | dict) -> Tensor:
    """The images of a batch from any dataset: VOC gives (images, targets), a folder just images, and
    ``EncodedImages`` {"image": images, "z": features}."""
    if isinstance(batch, dict):
        return batch["image"]
    return batch[0] if isinstance(batch, tuple | list) else batch


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def masked_bce(logits: Tensor, target: Tensor) -> Tensor:
    """Mean BCE over the entries that count: those ``IGNORED`` (difficult objects only) are left out."""
    counted = (target != IGNORED).float()
    total = F.binary_cross_entropy_with_logits(logits, target.clamp_min(0), weight=counted, reduction="sum")
    return total / counted.sum().clamp_min(1)


def average_precision(scores: Tensor, positives: Tensor, counted: Tensor | None = None) -> float:
    """Non-interpolated AP: the mean of the precision at the rank of each positive; NaN with no positives.

    This is scikit-learn's ``average_precision_score`` (with ties broken by order), not VOC's: VOC2007
    averages an 11-point interpolated precision and VOC2010+ the monotone envelope of the curve, both a
    little higher. Entries where ``counted`` is False (difficult objects) take no part, as in VOC.
    """
    if counted is not None:
        scores, positives = scores[counted], positives[counted]
    if not positives.any():
        return math.nan
    order = scores.argsort(descending=True, stable=True)
    hits = positives[order].float()
    precision = hits.cumsum(0) / torch.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def class_names_of(model: Classifier, names: Sequence[str] | None) -> Sequence[str]:
    """The names of the model's classes: those given, else VOC's for a 20-class model, else class_<k>."""
    count = model.config.num_classes
    if names is None:
        names = VOC_CLASSES if count == len(VOC_CLASSES) else [f"class_{k}" for k in range(count)]
    if len(names) != count:
        raise ValueError(f"{len(names)} class names given for a classifier with {count} classes")
    return names


def classifier_scores(model: Classifier, images: Tensor) -> Tensor:
    """Logits in float32: only E runs in mixed precision, since bf16 logits (about 3 significant
    digits) tie, and tied scores make AP depend on the order of the dataset."""
    with autocast(images.device):
        z = model.encode(images)
    return model.head(z.float())


def classifier_evaluate(
    model: Classifier, loader: Iterable, class_names: Sequence[str] | None = None
) -> Metrics:
    """Per-class AP ({class: AP}, NaN for a class never present), mAP over the others, and the BCE.

    AP is non-interpolated (see ``average_precision``); targets ``IGNORED`` count in neither AP nor BCE.
    """
    device, names = model_device(model), class_names_of(model, class_names)
    scores, targets = [], []
    model.eval()
    with torch.inference_mode():
        for images, target in loader:
            scores.append(classifier_scores(model, images.to(device)).cpu())
            targets.append(target)
    logits, target = torch.cat(scores), torch.cat(targets)
    counted = target != IGNORED
    ap = {
        name: average_precision(logits[:, k], target[:, k] > 0.5, counted[:, k])
        for k, name in enumerate(names)
    }
    present = [value for value in ap.values() if not math.isnan(value)]
    mean_ap = sum(present) / len(present) if present else math.nan
    return {"ap": ap, "map": mean_ap, "loss": float(masked_bce(logits, target))}


def classifier_optimizer(model: Classifier, lr: float, head_lr_factor: float = 10) -> torch.optim.Optimizer:
    """Adam; by default the new head learns ten times faster than the pretrained backbone."""
    head = list(model.fc.parameters())
    backbone = [p for name, p in model.named_parameters() if not name.startswith("fc.")]
    return torch.optim.Adam([{"params": backbone, "lr": lr}, {"params": head, "lr": head_lr_factor * lr}])


def one_cycle_schedule(
    optimizer: torch.optim.Optimizer, *, epochs: int, steps: int, resume: dict[str, Any] | None
) -> OneCycleLR:
    """Warm up to each group's learning rate for a fifth of the run, then anneal to almost zero.

    A short run from scratch gains most from it. The schedule spans one whole run, so it cannot resume one.
    """
    if resume is not None:
        raise ValueError("a one-cycle schedule spans a whole run and cannot resume one; train without it")
    peaks = [group["lr"] for group in optimizer.param_groups]
    return OneCycleLR(optimizer, max_lr=peaks, total_steps=max(1, epochs * steps), pct_start=0.2)


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


@dataclass
class Run:
    """What both training loops set up alike before their first epoch."""

    start: int  # the last finished epoch: 0, or the resumed checkpoint's
    schedule: LRScheduler | None  # the one-cycle learning-rate scheduler, or None
    scaler: GradScaler  # a no-op unless training in fp16
    settings: dict[str, Any]  # what the checkpoint records as "train"


def run_start(
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    device: torch.device,
    *,
    epochs: int,
    one_cycle: bool,
    resume: dict[str, Any] | None,
    log: Log,
    **settings: Any,
) -> Run:
    schedule = (
        one_cycle_schedule(optimizer, epochs=epochs, steps=len(train_loader), resume=resume)
        if one_cycle
        else None
    )
    train = train_settings(train_loader, epochs=epochs, one_cycle=one_cycle, **settings)
    return Run(epoch_resume(optimizer, resume, train, log), schedule, grad_scaler(device), train)


def train_settings(loader: Iterable, **settings: Any) -> dict[str, Any]:
    """What a checkpoint records of its training: the given settings, the batch size and the data's folder."""
    dataset = getattr(loader, "dataset", None)
    dataset = getattr(dataset, "dataset", dataset)  # a Subset's underlying dataset
    root = getattr(dataset, "root", None)
    found = {"batch_size": getattr(loader, "batch_size", None), "data": str(root) if root else None}
    return {**found, **settings}


RESUME_CHECKED = ("lr", "head_lr_factor", "loss_weights")  # settings a resumed run may change, with a warning


def epoch_resume(
    optimizer: torch.optim.Optimizer,
    resume: dict[str, Any] | None,
    train: dict[str, Any] | None = None,
    log: Log = print,
) -> int:
    """The last finished epoch of a resumed run (0 for a fresh one), with the optimizer's state restored.

    The saved state carries the old learning rates; the ones asked for now win, with a warning when they
    (or the loss weights) differ from those the checkpoint records.
    """
    if resume is None:
        return 0
    rates = [group["lr"] for group in optimizer.param_groups]
    if "optimizer" in resume:
        optimizer.load_state_dict(resume["optimizer"])
    for group, rate in zip(optimizer.param_groups, rates, strict=True):
        group["lr"] = rate
    before, now = resume.get("train") or {}, train or {}
    for key in RESUME_CHECKED:
        if key in before and key in now and before[key] != now[key]:
            log(f"warning: resuming with {key} {now[key]}, but the checkpoint trained with {before[key]}")
    return int(resume.get("epoch", 0))


def decoder_evaluate(classifier: Classifier, decoder: Decoder, loader: Iterable) -> Metrics:
    """Mean MSE, SSIM, PSNR (dB), DSIM of y = D(E(x)) against x, and how often M(y), M(x) agree on top."""
    device = model_device(decoder)
    sums = dict.fromkeys(("mse", "ssim", "psnr", "dsim", "agreement"), 0.0)
    count = 0
    classifier.eval()
    decoder.eval()
    with torch.inference_mode():
        for batch in loader:
            x = images_of(batch).to(device)
            with autocast(device):
                z = classifier.encode(x)
                y = decoder(z)
                z_y = classifier.encode(y)
                agree = classifier.head(z_y).argmax(1) == classifier.head(z).argmax(1)
            y, z, z_y = y.float(), z.float(), z_y.float()  # metrics in full precision
            mse = (y - x).pow(2).flatten(1).mean(1)  # (B, 3, H, W) -> (B,)
            sums["mse"] += float(mse.sum())
            sums["ssim"] += float(ssim(y, x, reduction="none").sum())
            sums["psnr"] += float((10 * torch.log10(1 / mse.clamp_min(1e-10))).sum())
            sums["dsim"] += float((z_y - z).pow(2).flatten(1).mean(1).sum())  # (B, C, h, w) -> (B,)
            sums["agreement"] += float(agree.sum())
            count += len(x)
    return {key: value / max(count, 1) for key, value in sums.items()}


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
