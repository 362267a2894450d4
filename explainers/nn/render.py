"""Writing explanation images to disk."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from explainers.nn.data import tensor_to_image


def save_png(image: Tensor, path: Path | str) -> Path:
    """Write a (3, H, W) RGB or (H, W) grey tensor in [0, 1] as a PNG (it leaves its device only here)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor_to_image(image).save(path, format="PNG")
    return path
