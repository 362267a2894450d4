from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from explainers.nn.render import save_png


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
