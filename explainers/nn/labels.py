"""The 20 PASCAL VOC classes, in the order of the classifier's outputs."""

from __future__ import annotations

VOC_CLASSES: tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor",
)  # fmt: skip

# How participants see the classes whose VOC names run words together; the rest read as they are.
VOC_DISPLAY_NAMES: dict[str, str] = {
    "diningtable": "dining table",
    "pottedplant": "potted plant",
    "tvmonitor": "TV monitor",
}
