"""The decoder's loss, normalised as the authors trained it: a1 * MSE + a2 * L_SSIM + a3 * DSIM.

- MSE: the mean over elements of (y - x)^2.
- L_SSIM: minus the sum over the three channels of SSIM(y_c, x_c) (11x11 Gaussian, sigma 1.5), averaged
  over the batch. The paper's weights 0.2 / 0.4 / 0.4 were tuned with this sum; the channel mean
  (``SSIM_CHANNEL_MEAN``, 1 - mean SSIM) weighs a third as much.
- DSIM: the mean over elements of (E(y) - z)^2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from explainers.nn.classifier import Classifier

SSIM_WINDOW = 11  # what skimage's gaussian_weights=True gives for sigma 1.5 (truncate 3.5)
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def gaussian_line(size: int, sigma: float, like: Tensor) -> Tensor:
    """A normalised 1-D Gaussian of ``size`` taps, (size,); the 2-D window is its outer product."""
    offsets = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    line = torch.exp(-(offsets**2) / (2 * sigma**2))
    return line / line.sum()


def gaussian_band(length: int, like: Tensor) -> Tensor:
    """(length - 10, length): row i holds SSIM's Gaussian at columns i to i + 10, zeros elsewhere.

    Multiplying by it blurs along one axis wherever the whole window fits, as a convolution without
    padding does.
    """
    line = gaussian_line(SSIM_WINDOW, SSIM_SIGMA, like)
    starts = torch.arange(length - SSIM_WINDOW + 1, device=like.device)[:, None]  # (l, 1)
    taps = torch.arange(length, device=like.device)[None, :] - starts  # (l, length), the tap at each column
    inside = (taps >= 0) & (taps < SSIM_WINDOW)
    return torch.where(inside, line[taps.clamp(0, SSIM_WINDOW - 1)], torch.zeros((), dtype=like.dtype))


def ssim(x: Tensor, y: Tensor, *, data_range: float = 1.0, reduction: str = "mean") -> Tensor:
    """Mean SSIM of two batches (B, C, H, W) or images (C, H, W), per channel with an 11x11 Gaussian window.

    Matches skimage's ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``: skimage averages only where the window fits the image, which is
    what a convolution without padding computes. ``reduction="none"`` gives one value per image (B,),
    ``"channels"`` one per image and channel (B, C).
    """
    if x.shape != y.shape or x.dim() not in (3, 4) or min(x.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim expects two equal shapes (B, C, H, W) or (C, H, W) with H, W >= {SSIM_WINDOW}, "
            f"got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.dim() == 3:
        x, y = x.unsqueeze(0), y.unsqueeze(0)  # (C, H, W) -> (1, C, H, W)
    rows, columns = gaussian_band(x.shape[-2], x), gaussian_band(x.shape[-1], x)  # (h, H), (w, W)

    def blur(t: Tensor) -> Tensor:
        # The Gaussian is separable, so the 11x11 blur is two matrix products, (h, H) @ t @ (W, w): on a
        # CPU about 4 times as fast as the grouped convolution it equals, and SSIM as a whole 1.7 times
        # (bench/bench_demo.py).
        return rows @ t @ columns.T  # (B, C, H, W) -> (B, C, h, w)

    mu_x, mu_y = blur(x), blur(y)
    # (Co)variances do not change when a constant is subtracted; centring each channel first keeps
    # E[x^2] - E[x]^2 from cancelling catastrophically in float32.
    xc = x - x.mean(dim=(2, 3), keepdim=True).detach()
    yc = y - y.mean(dim=(2, 3), keepdim=True).detach()
    mu_xc, mu_yc = blur(xc), blur(yc)
    var_x = blur(xc * xc) - mu_xc**2
    var_y = blur(yc * yc) - mu_yc**2
    cov = blur(xc * yc) - mu_xc * mu_yc
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    per_channel = index.flatten(2).mean(2)  # (B, C, h, w) -> (B, C)
    if reduction == "channels":
        return per_channel
    per_image = per_channel.mean(1)  # (B, C) -> (B,)
    if reduction == "none":
        return per_image
    if reduction == "mean":
        return per_image.mean()
    raise ValueError(f"ssim reduction must be 'mean', 'none' or 'channels', got {reduction!r}")


@dataclass(frozen=True)
class LossWeights:
    mse: float = 0.2  # a1, pixel-wise mean squared error
    ssim: float = 0.4  # a2, structural dissimilarity 1 - SSIM
    dsim: float = 0.4  # a3, feature distance between E(y) and z

    def __post_init__(self) -> None:
        values = (self.mse, self.ssim, self.dsim)
        if min(values) < 0 or not math.isclose(sum(values), 1.0, abs_tol=1e-6):
            raise ValueError(
                f"LossWeights must be non-negative and sum to one, got mse={self.mse}, ssim={self.ssim}, "
                f"dsim={self.dsim} (sum {sum(values):g})"
            )


class LossTerms(NamedTuple):
    total: Tensor  # the weighted sum that is minimised
    mse: Tensor  # mean over pixels of (y - x)^2
    ssim_loss: Tensor  # L_SSIM: -sum_c SSIM(y_c, x_c) (authors), or 1 - mean SSIM (channel mean)
    dsim: Tensor  # mean over elements of (E(y) - z)^2; NaN when its weight is 0 (not computed)


SSIM_CHANNEL_SUM = "channel_sum"  # the authors': L_SSIM = -sum over channels of SSIM, batch mean
SSIM_CHANNEL_MEAN = "channel_mean"  # 1 - SSIM averaged over channels: a third of the authors' weight
SSIM_NORMALISATIONS = (SSIM_CHANNEL_SUM, SSIM_CHANNEL_MEAN)


def ssim_loss_term(y: Tensor, x: Tensor, normalisation: str = SSIM_CHANNEL_SUM) -> Tensor:
    """L_SSIM of a batch: -sum_c SSIM(y_c, x_c) averaged over images, or 1 - mean SSIM."""
    if normalisation == SSIM_CHANNEL_SUM:
        return -ssim(y, x, reduction="channels").sum(1).mean()  # (B, C) -> (B,) -> ()
    if normalisation == SSIM_CHANNEL_MEAN:
        return 1 - ssim(y, x)
    raise ValueError(f"SSIM normalisation must be one of {', '.join(SSIM_NORMALISATIONS)}")


class PerceptionLoss(nn.Module):
    """The paper's loss for D. E is frozen by the caller; the gradient still flows through E into y.

    DSIM is the squared L2 distance between E(y) and z divided by the number of elements of z, so that
    its scale does not depend on the backbone or the image size. L_SSIM follows the authors' channel sum
    by default, so their weights mean what they meant (it is negative: -3 for a perfect RGB match).
    """

    def __init__(
        self,
        encoder: Classifier | Callable[[Tensor], Tensor],
        weights: LossWeights | None = None,
        ssim_normalisation: str = SSIM_CHANNEL_SUM,
    ) -> None:
        super().__init__()
        # A bound method, not a submodule: the loss owns no parameters and never trains E.
        self.encode = encoder.encode if isinstance(encoder, Classifier) else encoder
        self.weights = weights or LossWeights()
        if ssim_normalisation not in SSIM_NORMALISATIONS:
            raise ValueError(
                f"SSIM normalisation must be one of {', '.join(SSIM_NORMALISATIONS)}, "
                f"got {ssim_normalisation!r}"
            )
        self.ssim_normalisation = ssim_normalisation

    def forward(self, y: Tensor, x: Tensor, z: Tensor) -> LossTerms:
        """y = D(z) the reconstruction, x the input image, z = E(x) computed once by the caller."""
        with torch.autocast(y.device.type, enabled=False):  # SSIM's small differences need float32
            mse = F.mse_loss(y.float(), x.float())
            ssim_loss = ssim_loss_term(y.float(), x.float(), self.ssim_normalisation)
        w = self.weights
        total = w.mse * mse + w.ssim * ssim_loss
        if w.dsim == 0:  # E(y) costs a pass of E; not worth it for a term that does not count
            return LossTerms(total, mse, ssim_loss, torch.full((), math.nan, device=y.device))
        dsim = F.mse_loss(self.encode(y).float(), z.float())
        return LossTerms(total + w.dsim * dsim, mse, ssim_loss, dsim)
