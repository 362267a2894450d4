"""M: a torchvision ResNet with a multi-label head, and E: the same network truncated after layer4."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torchvision.models import resnet

from explainers.nn.checkpoints import (
    CheckpointError,
    checkpoint_load,
    checkpoint_save,
    file_load,
    network_from_payload,
    state_dict_apply,
)

TORCHVISION_ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
# Narrow ResNets for a CPU budget (the demo): torchvision's basic blocks with ``width`` channels after
# the stem instead of 64, doubling at each stage, so layer4 gives 8 * width. Half the width is about a
# quarter of the arithmetic. No ImageNet weights exist for them: they train from scratch.
NARROW_ARCHS: dict[str, tuple[tuple[int, int, int, int], int]] = {  # name: (blocks per stage, width)
    "resnet10_w32": ((1, 1, 1, 1), 32),
    "resnet18_w32": ((2, 2, 2, 2), 32),
}
ARCHS = (*TORCHVISION_ARCHS, *NARROW_ARCHS)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ClassifierConfig:
    arch: str = "resnet50"  # one of ARCHS; layer4 gives 2048 channels (512 for 18/34, 256 for the _w32)
    num_classes: int = 20  # PASCAL VOC; one sigmoid posterior per class (multi-label)
    image_size: int = 224  # side of the square RGB input it was trained on

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"ClassifierConfig.arch must be one of {ARCHS}, got {self.arch!r}")
        if self.num_classes < 1 or self.image_size < 32:
            raise ValueError(f"ClassifierConfig needs num_classes >= 1 and image_size >= 32, got {self}")


def resnet_bare(arch: str) -> resnet.ResNet:
    """An untrained torchvision ResNet; ``weights=None`` so nothing is ever downloaded."""
    if arch in NARROW_ARCHS:
        return resnet_narrow(*NARROW_ARCHS[arch])
    return getattr(resnet, arch)(weights=None)


def resnet_narrow(blocks: tuple[int, int, int, int], width: int) -> resnet.ResNet:
    """torchvision's ResNet with basic blocks at ``width`` channels, initialised as torchvision does."""
    with torch.device("meta"):  # the 64-channel layers are replaced below: never allocate them
        net = resnet.ResNet(resnet.BasicBlock, list(blocks))
    net.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
    net.bn1 = nn.BatchNorm2d(width)
    widths = [width * 2**stage for stage in range(4)]  # 32 -> 32, 64, 128, 256
    inputs = [width, *widths[:-1]]
    net.layer1, net.layer2, net.layer3, net.layer4 = (
        resnet_stage(i, w, n, stride=1 if stage == 0 else 2)
        for stage, (i, w, n) in enumerate(zip(inputs, widths, blocks, strict=True))
    )
    net.fc = nn.Linear(widths[-1], 1000)
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return net


def resnet_stage(in_channels: int, width: int, blocks: int, *, stride: int) -> nn.Sequential:
    """``blocks`` basic blocks; the first changes the resolution and width, with a 1x1 shortcut if so."""
    shortcut = None
    if stride != 1 or in_channels != width:
        shortcut = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(width)
        )
    first = resnet.BasicBlock(in_channels, width, stride, shortcut)
    return nn.Sequential(first, *(resnet.BasicBlock(width, width) for _ in range(blocks - 1)))


def feature_channels_of(arch: str) -> int:
    """Channels of layer4's output, read from the architecture without allocating its weights."""
    with torch.device("meta"):
        return resnet_bare(arch).fc.in_features


class Classifier(nn.Module):
    """M(x) = head(encode(x)); images enter as RGB in [0, 1] and M normalises them itself.

    Attribute names match torchvision's ResNet, so an ImageNet state_dict loads as is (except ``fc``).
    """

    feature_stride = 32  # a ResNet halves the resolution five times before layer4's output

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        base = resnet_bare(config.arch)
        self.conv1, self.bn1, self.relu, self.maxpool = base.conv1, base.bn1, base.relu, base.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            base.layer1,
            base.layer2,
            base.layer3,
            base.layer4,
        )
        self.avgpool = base.avgpool
        self.feature_channels = base.fc.in_features
        self.fc = nn.Linear(self.feature_channels, config.num_classes)
        # Constants, not weights: kept out of the state_dict so torchvision files stay compatible.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def encode(self, x: Tensor) -> Tensor:
        """E(x): layer4's output, (B, 3, 224, 224) -> (B, 2048, 7, 7) for resnet50."""
        x = (x - self.mean) / self.std
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def head(self, z: Tensor) -> Tensor:
        """Logits from layer4's output: global average pool, then the linear layer."""
        return self.fc(torch.flatten(self.avgpool(z), 1))  # (B, C, h, w) -> (B, C) -> (B, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encode(x))


def classifier_build(config: ClassifierConfig, backbone_weights: Path | str | None = None) -> Classifier:
    """A fresh classifier, its backbone optionally from a torchvision-format ImageNet state_dict file."""
    model = Classifier(config)
    if backbone_weights is not None:
        backbone_load(model, Path(backbone_weights))
    return model


def backbone_load(model: Classifier, path: Path) -> None:
    """Copy every weight but ``fc`` (ImageNet has 1000 classes, we have our own head) from ``path``."""
    state = file_load(path)
    if isinstance(state, dict) and state.get("kind") == "classifier":
        state = state.get("state_dict")  # one of our classifier checkpoints also carries a backbone
    if not isinstance(state, dict) or not all(isinstance(value, Tensor) for value in state.values()):
        raise CheckpointError(
            f"{path}: expected a torchvision {model.config.arch} state_dict (name -> tensor)"
        )
    backbone = {key: value for key, value in state.items() if not key.startswith("fc.")}
    fc = model.fc
    model.fc = nn.Identity()  # so the strict check below covers exactly the backbone
    try:
        state_dict_apply(model, backbone, path=path, what=f"a torchvision {model.config.arch} backbone")
    finally:
        model.fc = fc


def classifier_save(model: Classifier, path: Path | str, **extra: Any) -> None:
    checkpoint_save(
        path, kind="classifier", config=asdict(model.config), state_dict=model.state_dict(), **extra
    )


def classifier_load(path: Path | str, map_location: str | torch.device = "cpu") -> Classifier:
    """Rebuild a classifier from its checkpoint, in eval mode."""
    # Mapped on the CPU, then moved: a training checkpoint's optimiser state is never read.
    payload = checkpoint_load(path, kind="classifier", mmap=True)
    return classifier_from_payload(payload, path=path).to(map_location).eval()


def classifier_from_payload(payload: dict[str, Any], *, path: Path | str) -> Classifier:
    """The classifier a loaded checkpoint describes (``path`` only names the file in errors)."""
    return network_from_payload(
        payload, path=path, kind="classifier", config_type=ClassifierConfig, build=Classifier
    )


def predict(model: Classifier, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Posteriors (B, C), prediction sets (B, C) bool (p > 0.5) and the top class (B,) of each image."""
    with torch.inference_mode():
        posteriors = torch.sigmoid(model(images))
    return posteriors, posteriors > 0.5, posteriors.argmax(dim=1)
