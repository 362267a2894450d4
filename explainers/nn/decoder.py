"""D: inverts E, from layer4's features z back to an RGB image y in [0, 1].

With the defaults, D has 24,154,819 parameters (transposed kernel 3, the paper's text) or 16,741,059
(transposed kernel 2, the authors' code). Each stage doubles the resolution, so there is one stage per
factor of two in E's stride and y has the size of the image E saw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from explainers.nn.checkpoints import checkpoint_load, checkpoint_save, network_from_payload
from explainers.nn.classifier import Classifier, ClassifierConfig, feature_channels_of


@dataclass
class DecoderConfig:
    in_channels: int = 2048  # channels of z, i.e. of E's layer4 (512 for resnet18/34)
    widths: tuple[int, ...] = (512, 512, 256, 128, 64)  # output channels of each up-sampling stage
    convs: tuple[int, ...] = (2, 2, 2, 1, 1)  # 3x3 conv + LeakyReLU blocks after each stage's up-sampling
    transposed_kernel: int = 3  # 3 as in the paper's text, 2 as in the authors' code
    input_stride: int = 32  # E's total stride; log2 of it is the number of stages
    leaky_slope: float = 0.2  # negative slope of every LeakyReLU

    def __post_init__(self) -> None:
        self.widths, self.convs = tuple(self.widths), tuple(self.convs)  # lists after a JSON round trip
        stride = self.input_stride
        if stride < 2 or stride & (stride - 1):
            raise ValueError(f"DecoderConfig.input_stride must be a power of two >= 2, got {stride}")
        if not len(self.widths) == len(self.convs) == self.stages:
            raise ValueError(
                f"DecoderConfig needs one width and one conv count per stage: input_stride {stride} means "
                f"{self.stages} stages, got widths {self.widths} and convs {self.convs}"
            )
        if self.transposed_kernel not in (2, 3):
            raise ValueError(f"DecoderConfig.transposed_kernel must be 2 or 3, got {self.transposed_kernel}")

    @property
    def stages(self) -> int:
        return self.input_stride.bit_length() - 1

    @classmethod
    def for_classifier(cls, classifier: Classifier | ClassifierConfig, **overrides: Any) -> DecoderConfig:
        """The default decoder for a classifier's encoder (its channels and stride)."""
        if isinstance(classifier, Classifier):
            channels, stride = classifier.feature_channels, classifier.feature_stride
        else:
            channels, stride = feature_channels_of(classifier.arch), Classifier.feature_stride
        return cls(**{"in_channels": channels, "input_stride": stride, **overrides})


def upsample(in_channels: int, out_channels: int, kernel: int) -> nn.ConvTranspose2d:
    """A linear stride-2 transposed conv that exactly doubles height and width for kernel 2 or 3."""
    if kernel == 3:
        return nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)
    return nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)


class UpStage(nn.Sequential):
    """Transposed conv (x2), batch norm, then ``convs`` times (3x3 conv, LeakyReLU)."""

    def __init__(self, in_channels: int, width: int, convs: int, config: DecoderConfig) -> None:
        layers: list[nn.Module] = [
            upsample(in_channels, width, config.transposed_kernel),
            nn.BatchNorm2d(width),
        ]
        for _ in range(convs):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(config.leaky_slope)]
        super().__init__(*layers)


class Decoder(nn.Module):
    """y = D(z): (B, 2048, 7, 7) -> (B, 3, 224, 224) with the defaults. No skip connections."""

    def __init__(self, config: DecoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DecoderConfig()
        inputs = (config.in_channels, *config.widths[:-1])
        self.stages = nn.Sequential(
            *(UpStage(i, w, n, config) for i, w, n in zip(inputs, config.widths, config.convs, strict=True))
        )
        self.to_rgb = nn.Conv2d(config.widths[-1], 3, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.to_rgb(self.stages(z)))


def decoder_save(decoder: Decoder, path: Path | str, **extra: Any) -> None:
    checkpoint_save(
        path, kind="decoder", config=asdict(decoder.config), state_dict=decoder.state_dict(), **extra
    )


def decoder_load(path: Path | str, map_location: str | torch.device = "cpu") -> Decoder:
    """Rebuild a decoder from its checkpoint, in eval mode."""
    # Mapped on the CPU, then moved: a training checkpoint's optimiser state is never read.
    payload = checkpoint_load(path, kind="decoder", mmap=True)
    return decoder_from_payload(payload, path=path).to(map_location).eval()


def decoder_from_payload(payload: dict[str, Any], *, path: Path | str) -> Decoder:
    """The decoder a loaded checkpoint describes (``path`` only names the file in errors)."""
    return network_from_payload(payload, path=path, kind="decoder", config_type=DecoderConfig, build=Decoder)
