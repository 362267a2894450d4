"""Checkpoint files shared by the classifier and the decoder.

A checkpoint is a dict ``{"kind": "classifier" | "decoder", "config": asdict(config), "state_dict": ...}``
plus extras such as ``"metrics"``, ``"epoch"`` and ``"optimizer"``, so that it rebuilds itself.
Every file is read with ``torch.load(weights_only=True)``: nothing in it is executed.

Training writes training checkpoints: they keep the optimiser's state, so a run can resume. Rendering
needs only the weights, so ``inference_export`` writes an inference checkpoint without it (a third of an
Adam-trained file's size), marked ``"inference": True``; such a file refuses to resume training.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from explainers.nn.files import file_sha256

KINDS = ("classifier", "decoder")
INFERENCE = "inference"  # the payload key that marks an exported inference checkpoint
TRAINING_ONLY = ("optimizer",)  # what an inference checkpoint leaves out


class CheckpointError(ValueError):
    """A checkpoint or weights file is missing, unreadable, of the wrong kind or does not fit the model."""


def file_load(path: Path | str, map_location: str | torch.device = "cpu", *, mmap: bool = False) -> Any:
    """Read any PyTorch file safely, turning every failure into a CheckpointError that names the file.

    With ``mmap`` the tensors are mapped rather than read, so those never used (a training checkpoint's
    optimiser state) cost no I/O; it needs the zip format every ``torch.save`` since 1.6 writes.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found (expected a PyTorch checkpoint or state_dict file)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises several unrelated types for unreadable files
        raise CheckpointError(
            f"{path}: not a readable PyTorch weights file, it may be corrupt or truncated ({exc})"
        ) from exc


def checkpoint_save(
    path: Path | str, *, kind: str, config: Mapping[str, Any], state_dict: Mapping[str, Any], **extra: Any
) -> None:
    """Write a checkpoint atomically: a crash mid-write never leaves a truncated file at ``path``."""
    if kind not in KINDS:
        raise ValueError(f"checkpoint kind must be one of {KINDS}, got {kind!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"kind": kind, "config": dict(config), "state_dict": dict(state_dict), **extra}
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def checkpoint_load(
    path: Path | str, *, kind: str, map_location: str | torch.device = "cpu", mmap: bool = False
) -> dict[str, Any]:
    """Read a checkpoint written by ``checkpoint_save`` and check that it holds a ``kind``."""
    payload = file_load(path, map_location, mmap=mmap)
    if not isinstance(payload, dict) or "kind" not in payload:
        raise CheckpointError(
            f"{path}: not a {kind} checkpoint of this project (expected a dict with 'kind', 'config' and "
            "'state_dict'; a torchvision ImageNet file goes to --backbone-weights instead)"
        )
    if payload["kind"] != kind:
        raise CheckpointError(f"{path}: holds a {payload['kind']!r} checkpoint, expected a {kind!r} one")
    for key in ("config", "state_dict"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{path}: the {kind} checkpoint has no {key!r} dict")
    return payload


def resumable_check(payload: Mapping[str, Any], *, path: Path | str = "the checkpoint") -> None:
    """Refuse to resume training from an inference checkpoint: its optimiser state is gone."""
    if payload.get(INFERENCE):
        raise CheckpointError(
            f"{path}: an inference checkpoint (exported without optimiser state) cannot resume training; "
            "resume from the training checkpoint it was exported from"
        )


def checkpoint_resume_load(path: Path | str, *, kind: str) -> dict[str, Any]:
    """A training checkpoint to resume from: ``checkpoint_load``, refusing inference checkpoints."""
    payload = checkpoint_load(path, kind=kind)
    resumable_check(payload, path=path)
    return payload


def inference_export(source: Path | str, destination: Path | str, *, kind: str) -> Path:
    """Write ``source`` (a ``kind`` checkpoint) to ``destination`` without its optimiser state.

    The config, weights, metrics and training settings are kept, with the name and sha256 of the file it
    came from, so the study it renders can be traced to the run that trained it.
    """
    source, destination = Path(source), Path(destination)
    if destination.resolve() == source.resolve():
        raise CheckpointError(f"{destination}: export to a new file, not over the training checkpoint")
    payload = checkpoint_load(source, kind=kind, mmap=True)  # the optimiser's tensors are never read
    kept = {key: value for key, value in payload.items() if key not in {"kind", "config", "state_dict"}}
    extra = {key: value for key, value in kept.items() if key not in TRAINING_ONLY}
    extra |= {"exported_from": {"name": source.name, "sha256": file_sha256(source)}, INFERENCE: True}
    config, state_dict = payload["config"], payload["state_dict"]
    checkpoint_save(destination, kind=kind, config=config, state_dict=state_dict, **extra)
    return destination


def state_dict_apply(
    module: nn.Module, state_dict: Mapping[str, Any], *, path: Path | str, what: str
) -> None:
    """Load ``state_dict`` strictly, explaining a mismatch in terms of the file and the expected model."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    reshaped = [
        f"{key} {tuple(state_dict[key].shape)} != {tuple(value.shape)}"
        for key, value in expected.items()
        if key in state_dict and tuple(state_dict[key].shape) != tuple(value.shape)
    ]
    if missing or unexpected or reshaped:
        raise CheckpointError(
            f"{path}: weights do not match {what}: " + mismatch_summary(missing, unexpected, reshaped)
        )
    module.load_state_dict(state_dict, strict=True)


def mismatch_summary(missing: list[str], unexpected: list[str], reshaped: list[str]) -> str:
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", reshaped)):
        if keys:
            shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
            parts.append(f"{len(keys)} {label} ({shown})")
    return "; ".join(parts)


def network_from_payload(
    payload: Mapping[str, Any],
    *,
    path: Path | str,
    kind: str,
    config_type: type,
    build: Callable[[Any], nn.Module],
) -> nn.Module:
    """Rebuild the network a loaded checkpoint describes, in eval mode (``path`` only names the file)."""
    try:
        config = config_type(**payload["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid {kind} config {payload['config']!r} ({exc})") from exc
    network = build(config)
    state_dict_apply(network, payload["state_dict"], path=path, what=f"a {kind} with {config}")
    return network.eval()
