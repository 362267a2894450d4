"""Checkpoints uploaded through the admin: streamed to the checkpoint folder, checked, and registered."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from explainers.models import Checkpoint
from explainers.services.checkpoints import checkpoint_register
from explainers.services.errors import RenderError


def checkpoint_root() -> Path:
    return Path(settings.EXPLAINERS_CHECKPOINT_ROOT)


def checkpoint_upload(*, kind: str, chunks: Iterable[bytes], filename: str, name: str = "") -> Checkpoint:
    """Write the upload's chunks to the checkpoint folder, then register it (kind and architecture checked).

    The file is named after its kind and content hash, so uploading the same file twice finds the same
    row. A file that is not a ``kind`` checkpoint is deleted again and RenderError says why.
    """
    folder = checkpoint_root()
    folder.mkdir(parents=True, exist_ok=True)
    partial, sha256 = _stream_to(folder, chunks)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem)[:60] or kind
    target = folder / f"{kind}-{stem}-{sha256[:12]}.pt"
    os.replace(partial, target)
    try:
        return checkpoint_register(kind=kind, path=target, name=name or Path(filename).stem)
    except BaseException:
        if not Checkpoint.objects.filter(path=str(target.resolve())).exists():
            target.unlink(missing_ok=True)
        raise


def _stream_to(folder: Path, chunks: Iterable[bytes]) -> tuple[Path, str]:
    digest = hashlib.sha256()
    handle, name = tempfile.mkstemp(prefix=".upload-", suffix=".partial", dir=folder)
    try:
        with os.fdopen(handle, "wb") as sink:
            for chunk in chunks:
                digest.update(chunk)
                sink.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    if not Path(name).stat().st_size:
        Path(name).unlink()
        raise RenderError("the uploaded checkpoint file is empty")
    return Path(name), digest.hexdigest()
