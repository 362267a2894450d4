"""Checkpoint files: registering them, exporting inference ones, and loading each network once per process."""

from __future__ import annotations

import math
import threading
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from explainers.models import Checkpoint
from explainers.nn.files import file_sha256
from explainers.services.errors import RenderError


def checkpoint_read(*, kind: str, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load the file as a ``kind`` network (raising CheckpointError otherwise): its config and metrics."""
    from explainers.nn.checkpoints import checkpoint_load
    from explainers.nn.classifier import classifier_from_payload
    from explainers.nn.decoder import decoder_from_payload

    if kind not in Checkpoint.Kind.values:
        raise RenderError(f"checkpoint kind must be classifier or decoder, got {kind!r}")
    payload = checkpoint_load(path, kind=kind)
    # Building the network is what proves the file holds one; the metrics come from the same read.
    model = {"classifier": classifier_from_payload, "decoder": decoder_from_payload}[kind](payload, path=path)
    metrics = payload.get("metrics") if isinstance(payload.get("metrics"), dict) else {}
    return asdict(model.config), _jsonable(metrics)


def _jsonable(value: Any) -> Any:
    """Metrics may hold tensors, numpy scalars or NaN (a class never seen); the database keeps plain JSON."""
    if hasattr(value, "tolist"):
        value = value.tolist()  # tensor or numpy value -> Python number or list
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # PostgreSQL's jsonb has no NaN
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def checkpoint_register(*, kind: str, path: Path | str, name: str = "") -> Checkpoint:
    """Check that ``path`` holds a ``kind`` checkpoint and record it; the same file twice is one row.

    The file is loaded and hashed before any transaction opens (it may be hundreds of MB), and the row is
    taken with get_or_create on the unique (path, sha256), so two registrations racing make one row.
    """
    path = Path(path).expanduser().resolve()
    config, metrics = checkpoint_read(kind=kind, path=path)
    sha256 = file_sha256(path)
    checkpoint, _ = Checkpoint.objects.get_or_create(
        path=str(path),
        sha256=sha256,
        defaults={"kind": kind, "name": name or path.stem, "config": config, "metrics": metrics},
    )
    if checkpoint.kind != kind:
        raise RenderError(f"{path}: already registered as a {checkpoint.kind}, not a {kind}")
    return checkpoint


def checkpoint_export(*, kind: str, source: Path | str, destination: Path | str) -> Path:
    """Write the inference checkpoint of a training one: the same network, without the optimiser's state.

    Workers load it faster (the optimiser's state is twice the weights with Adam), and it cannot be
    mistaken for a run to resume. An existing file is never overwritten.
    """
    from explainers.nn.checkpoints import inference_export

    if kind not in Checkpoint.Kind.values:
        raise RenderError(f"checkpoint kind must be classifier or decoder, got {kind!r}")
    destination = Path(destination).expanduser()
    if destination.exists():
        raise RenderError(f"{destination}: already exists; export to a new file")
    return inference_export(Path(source).expanduser(), destination, kind=kind)


def checkpoint_network(*, checkpoint: Checkpoint, device: str) -> Any:
    """The checkpoint's network on ``device``, ready for inference; loaded once per process.

    Networks are kept by the sha256 of their file, so every chunk a worker renders reuses them. The file is
    hashed once per process (again only if its size or modification time changes), and must still be the
    one registered.
    """
    path = Path(checkpoint.path)
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise RenderError(f"{path}: the {checkpoint.kind} checkpoint file is gone") from exc
    if _file_hash(str(path), stat.st_size, stat.st_mtime_ns) != checkpoint.sha256:
        raise RenderError(
            f"{path}: the {checkpoint.kind} checkpoint changed since it was registered; register it again"
        )
    key = (checkpoint.kind, checkpoint.sha256, device)
    with _LOADING:
        if key not in _NETWORKS:
            while len(_NETWORKS) >= NETWORKS_KEPT:
                _NETWORKS.pop(next(iter(_NETWORKS)))  # the oldest: a worker moved on to other checkpoints
            _NETWORKS[key] = network_load(kind=checkpoint.kind, path=path, device=device)
        return _NETWORKS[key]


NETWORKS_KEPT = 4  # a classifier and a decoder, and the pair of one more job
_NETWORKS: dict[tuple[str, str, str], Any] = {}  # (kind, sha256, device) -> network
_LOADING = threading.Lock()  # a threaded worker pool loads each network once too


@lru_cache(maxsize=64)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))


def network_load(*, kind: str, path: Path, device: str) -> Any:
    """A checkpoint's network for rendering: in eval mode and NHWC (``nn.device.channels_last``)."""
    from explainers.nn.classifier import classifier_load
    from explainers.nn.decoder import decoder_load
    from explainers.nn.device import channels_last

    network = {"classifier": classifier_load, "decoder": decoder_load}[kind](path, map_location=device)
    return channels_last(network)


def networks_forget() -> None:
    """Drop every loaded network and file hash, as a fresh worker process starts."""
    with _LOADING:
        _NETWORKS.clear()
    _file_hash.cache_clear()
