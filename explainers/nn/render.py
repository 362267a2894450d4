"""Writing explanation images to disk."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from explainers.nn.data import tensor_to_image

# zlib's level 3 encodes the study's pictures 2.3x faster than Pillow's default 6, for files 2% larger
# (7.7 against 17.6 ms and 43 against 42 KiB per 224 px picture, measured on rendered PV, Grad-CAM,
# reconstructions and inputs).
PNG_COMPRESS_LEVEL = 3


def save_png(image: Tensor, path: Path | str) -> Path:
    """Write a (3, H, W) RGB or (H, W) grey tensor in [0, 1] as a PNG (it leaves its device only here)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor_to_image(image).save(path, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return path


def frames(images: Tensor) -> Tensor:
    """A batch (B, 3, H, W) in [0, 1] as 8-bit pixels (B, H, W, 3), still on its device.

    The same rounding as ``tensor_to_image``, so a batch written this way gives the same files.
    """
    pixels = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous()  # (B, 3, H, W) -> (B, H, W, 3)


def png_bytes(frame: np.ndarray) -> bytes:
    """One (H, W, 3) uint8 frame as PNG bytes, encoded in memory."""
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()
