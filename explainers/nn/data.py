"""Images in and out: PASCAL VOC (VOCdevkit layout), any folder of images, and tensor <-> PIL."""

from __future__ import annotations

import multiprocessing
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from explainers.nn.labels import VOC_CLASSES
from explainers.nn.synthetic import write_synthetic_voc

__all__ = [
    "IGNORED",
    "VOC_CLASSES",
    "ImageFolderDataset",
    "VOCDataset",
    "data_loader",
    "image_to_tensor",
    "images_of",
    "inference_loader",
    "tensor_to_image",
    "voc_objects",
    "write_synthetic_voc",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
IGNORED = -1.0  # target of a class present only as difficult objects: neither positive nor negative


def image_to_tensor(pil: Image.Image, size: int | tuple[int, int] | None = None) -> Tensor:
    """RGB (3, S, S) in [0, 1], resized to a square ``size`` (or (H, W)); None keeps the image's size."""
    pil = pil.convert("RGB")
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else size
        pil = pil.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(pil, dtype=np.uint8).copy()
    return torch.from_numpy(array).permute(2, 0, 1).float() / 255  # (H, W, 3) -> (3, H, W)


def tensor_to_image(t: Tensor) -> Image.Image:
    """A (3, H, W) RGB or (H, W) grey tensor in [0, 1], on any device, as a PIL image."""
    if t.dim() == 3 and t.shape[0] == 1:
        t = t[0]  # (1, H, W) -> (H, W)
    if not (t.dim() == 2 or (t.dim() == 3 and t.shape[0] == 3)):
        raise ValueError(f"tensor_to_image expects (3, H, W) or (H, W), got {tuple(t.shape)}")
    array = (t.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    if array.dim() == 3:
        array = array.permute(1, 2, 0)  # (3, H, W) -> (H, W, 3)
    return Image.fromarray(array.numpy())


def image_transform(image_size: int, augment: bool) -> transforms.Compose:
    """Square images; augmentation is a random crop of most of the image, a flip and mild colour jitter."""
    if not augment:
        return transforms.Compose([transforms.Resize((image_size, image_size)), transforms.ToTensor()])
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(image_size, scale=(0.6, 1.0)),
            transforms.RandomHorizontalFlip(),
            transforms.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
            transforms.ToTensor(),
        ]
    )


def voc_objects(annotation: Path) -> list[tuple[str, bool]]:
    """(class name, difficult) for each object of a VOC annotation file."""
    try:
        root = ElementTree.parse(annotation).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise ValueError(f"{annotation}: not a readable VOC annotation XML ({exc})") from exc
    objects = []
    for element in root.iter("object"):
        name = (element.findtext("name") or "").strip()
        if name not in VOC_CLASSES:
            raise ValueError(f"{annotation}: object class {name!r} is not one of the 20 VOC classes")
        objects.append((name, (element.findtext("difficult") or "0").strip() == "1"))
    return objects


def voc_layout_check(root: Path, split: str) -> Path:
    """The split's id list, after making sure the VOCdevkit folders exist (naming the first that does not)."""
    for path in (root, root / "JPEGImages", root / "Annotations", root / "ImageSets" / "Main"):
        if not path.is_dir():
            raise ValueError(
                f"{path}: missing; expected a PASCAL VOC folder such as VOCdevkit/VOC2012 holding "
                "JPEGImages/, Annotations/ and ImageSets/Main/"
            )
    ids_file = root / "ImageSets" / "Main" / f"{split}.txt"
    if not ids_file.is_file():
        raise ValueError(f"{ids_file}: missing; no image list for the split {split!r}")
    return ids_file


class VOCDataset(Dataset):
    """PASCAL VOC as image-level multi-label data: (image (3, S, S) in [0, 1], target (20,) float).

    The target is 1 for every class with an object in the image and 0 for the others. Objects marked
    difficult count as labels by default, as the authors had them. With ``include_difficult=False``, a
    class whose only objects are difficult is ``IGNORED`` (-1), as VOC's own protocol ignores them: the
    loss and AP leave such entries out rather than count them as absent.
    """

    def __init__(
        self,
        root: Path | str,
        split: str = "train",
        image_size: int = 224,
        include_difficult: bool = True,
        augment: bool = False,
    ) -> None:
        self.root = Path(root)
        ids_file = voc_layout_check(self.root, split)
        self.ids = [line.split()[0] for line in ids_file.read_text().splitlines() if line.strip()]
        self.include_difficult = include_difficult
        self.transform = image_transform(image_size, augment)
        self.targets = torch.stack([self.target(image_id) for image_id in self.ids]) if self.ids else None

    def target(self, image_id: str) -> Tensor:
        objects = voc_objects(self.root / "Annotations" / f"{image_id}.xml")
        present = {name for name, difficult in objects if self.include_difficult or not difficult}
        difficult_only = {name for name, _ in objects} - present
        return torch.tensor(
            [1.0 if name in present else IGNORED if name in difficult_only else 0.0 for name in VOC_CLASSES]
        )

    def __len__(self) -> int:
        return len(self.ids)

    def image_path(self, index: int) -> Path:
        return self.root / "JPEGImages" / f"{self.ids[index]}.jpg"

    def labels(self, index: int) -> list[str]:
        return [name for name, on in zip(VOC_CLASSES, self.targets[index].tolist(), strict=True) if on > 0]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        with Image.open(self.image_path(index)) as image:
            return self.transform(image.convert("RGB")), self.targets[index]


class ImageFolderDataset(Dataset):
    """Every image under ``root`` (recursively, sorted), as (3, S, S) tensors in [0, 1]."""

    def __init__(self, root: Path | str, image_size: int = 224, augment: bool = False) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"{self.root}: not a folder of images")
        self.paths = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise ValueError(f"{self.root}: holds no images (looked for {', '.join(IMAGE_SUFFIXES)})")
        self.transform = image_transform(image_size, augment)

    def __len__(self) -> int:
        return len(self.paths)

    def image_path(self, index: int) -> Path:
        return self.paths[index]

    def __getitem__(self, index: int) -> Tensor:
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB"))


def data_loader(dataset: Dataset, *, batch_size: int, shuffle: bool, workers: int = 0) -> DataLoader:
    """A loader for training (shuffled; a last batch of one would upset batch norm, so it is dropped)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=torch.cuda.is_available(),
        drop_last=shuffle and len(dataset) > batch_size,
    )


# Starting a decoding process costs about 0.15 s (a fork of a process that holds torch), as much as
# decoding two or three batches of VOC pictures: fewer batches than this are decoded in-process.
LOADER_WORKERS_FROM = 4


def inference_loader(dataset: Dataset, *, batch_size: int, workers: int = 0) -> DataLoader:
    """Every item in order, in batches, decoded by ``workers`` processes while the network runs.

    A daemonic process (a Celery prefork pool's child) may not start processes, so it decodes in-process,
    as does a loader of few batches. The batches land in pinned memory when there is a GPU, for
    asynchronous copies to it.
    """
    batches = -(-len(dataset) // batch_size)
    few = batches < LOADER_WORKERS_FROM or multiprocessing.current_process().daemon
    workers = 0 if few else min(workers, batches)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
    )


def images_of(batch: Tensor | tuple | list | dict) -> Tensor:
    """The images of a batch from any dataset: VOC gives (images, targets), a folder just images, and
    ``EncodedImages`` {"image": images, "z": features}."""
    if isinstance(batch, dict):
        return batch["image"]
    return batch[0] if isinstance(batch, tuple | list) else batch
