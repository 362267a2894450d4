from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from explainers.nn.render import frames, png_bytes, save_png


def test_save_png_writes_the_pixels_of_the_tensor(tmp_path) -> None:
    image = torch.zeros(3, 2, 3)
    image[0, 0, 0] = 1.0
    image[1, 1, 2] = 0.5

    path = save_png(image, tmp_path / "deep" / "out.png")

    with Image.open(path) as written:
        assert written.format == "PNG"
        pixels = np.asarray(written)
    assert pixels.shape == (2, 3, 3)
    assert pixels[0, 0].tolist() == [255, 0, 0]
    assert pixels[1, 2].tolist() == [0, 128, 0]


def test_save_png_writes_a_mask_in_grey(tmp_path) -> None:
    path = save_png(torch.tensor([[0.0, 1.0]]), tmp_path / "mask.png")

    with Image.open(path) as written:
        assert written.mode == "L"
        assert np.asarray(written).tolist() == [[0, 255]]


def test_a_batch_as_frames_gives_the_pixels_of_each_tensor_written_alone(tmp_path) -> None:
    batch = torch.rand(2, 3, 5, 4, generator=torch.Generator().manual_seed(0))
    batch[0, 0, 0, 0], batch[1, 2, 4, 3] = 1.7, -0.3  # out of range: clamped alike

    pixels = frames(batch)

    assert (pixels.shape, pixels.dtype) == ((2, 5, 4, 3), torch.uint8)
    for image, frame in zip(batch, pixels, strict=True):
        path = save_png(image, tmp_path / "alone.png")
        assert png_bytes(frame.numpy()) == path.read_bytes()
