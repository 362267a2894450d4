"""Registering checkpoint files, and loading each network once per process."""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from explainers.models import Checkpoint
from explainers.services.errors import RenderError

CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


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


def checkpoint_network(*, checkpoint: Checkpoint, device: str) -> Any:
    """The checkpoint's network on ``device``, loaded once per process while the file is unchanged."""
    path = Path(checkpoint.path)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise RenderError(f"{path}: the {checkpoint.kind} checkpoint file is gone") from exc
    return _network_cached(checkpoint.kind, str(path), checkpoint.sha256, mtime_ns, device)


@lru_cache(maxsize=4)
def _network_cached(kind: str, path: str, sha256: str, mtime_ns: int, device: str) -> Any:
    from explainers.nn.classifier import classifier_load
    from explainers.nn.decoder import decoder_load

    if file_sha256(Path(path)) != sha256:
        raise RenderError(f"{path}: the {kind} checkpoint changed since it was registered; register it again")
    return {"classifier": classifier_load, "decoder": decoder_load}[kind](path, map_location=device)
