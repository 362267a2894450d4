"""What both training loops share: the optimizer step, the one-cycle schedule, resuming, recorded settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.amp import GradScaler
from torch.optim.lr_scheduler import LRScheduler, OneCycleLR

from explainers.nn.checkpoints import resumable_check
from explainers.nn.device import grad_scaler

Log = Callable[[str], None]


def optimizer_step(loss: Tensor, optimizer: torch.optim.Optimizer, scaler: GradScaler) -> None:
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


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
    resumable_check(resume)
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
