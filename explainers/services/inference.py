"""The one place outside explainers.nn that handles tensors: it feeds batches to nn and writes the PNGs.

Images are decoded by DataLoader worker processes while the networks run, and each batch's PNGs are
encoded by a few threads while the next batch is computed. Tensors stay on the render device until they
are 8-bit pixels on their way to a PNG; callers get back plain Python. E runs once per image: the
features selection computed for the images it may pick are kept (``FEATURES``), and rendering them in
this process starts from there.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import torch
from django.conf import settings
from torch.utils.data import Subset

from explainers.methods import INPUT, RECONSTRUCTION, Method
from explainers.nn.data import IGNORED, VOC_CLASSES, VOCDataset, inference_loader
from explainers.nn.device import device_pick, inference_autocast, inference_dtype
from explainers.nn.perception import encoded, explain, top_class_attention
from explainers.nn.render import frames, png_bytes
from explainers.services.selection import Prediction
from survey.rules import DIFFICULT_LABELS, ELIGIBLE


def render_device() -> str:
    return str(device_pick(settings.EXPLAINERS_DEVICE))


def dataset_open(*, root: str, split: str, image_size: int, difficult: str = DIFFICULT_LABELS) -> VOCDataset:
    """The split, read once per process while its image list is unchanged, under a difficult policy."""
    ids_file = Path(root) / "ImageSets" / "Main" / f"{split}.txt"
    mtime_ns = ids_file.stat().st_mtime_ns if ids_file.is_file() else 0
    return _dataset_cached(root, split, image_size, mtime_ns, difficult)


@lru_cache(maxsize=2)
def _dataset_cached(root: str, split: str, image_size: int, mtime_ns: int, difficult: str) -> VOCDataset:
    # By default (the authors'), difficult objects count as true labels: a prediction of something that
    # is in the picture, however small, must not be shown to participants as the model being wrong.
    include = difficult == DIFFICULT_LABELS
    return VOCDataset(root, split=split, image_size=image_size, include_difficult=include)


def to_device(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A batch on the render device, NHWC like the networks (``nn.device.channels_last``)."""
    return images.to(device, non_blocking=True, memory_format=torch.channels_last)


def split_predictions(
    *,
    classifier: Any,
    dataset: VOCDataset,
    device: str,
    batch_size: int = 32,
    workers: int = 0,
    saliency: str = "gradcam",
    keep_for: int | None = None,
) -> list[Prediction]:
    """Every class's posterior and the top class's mask share for every image, in order.

    Full precision whatever the render precision: the posteriors decide which images are eligible. With
    ``keep_for`` (a job's id), the features of every image that may be picked are kept in ``FEATURES``.
    """
    predictions: list[Prediction] = []
    for images, targets in inference_loader(dataset, batch_size=batch_size, workers=workers):
        images = to_device(images, torch.device(device))  # (B, 3, S, S)
        z = encoded(classifier, images)  # (B, K, S/32, S/32)
        posteriors, shares = top_class_attention(classifier, images, saliency=saliency, features=z)
        keys = dataset.ids[len(predictions) : len(predictions) + len(images)]
        batch = [
            prediction_of(key, posteriors=row, target=target, share=share)
            for key, row, target, share in zip(
                keys, posteriors.tolist(), targets.tolist(), shares.tolist(), strict=True
            )
        ]
        if keep_for is not None:
            pickable = {p.key: z[b] for b, p in enumerate(batch) if p.category in ELIGIBLE and not p.blank}
            FEATURES.offer(keep_for, pickable)
        predictions += batch
    return predictions


class Features:
    """E(x) that selection computed, kept so that rendering the picked images in this process skips E.

    Selection runs E over the whole split; a job that renders most of it would otherwise run E twice per
    image. One job's at a time (the latest selection's), on the CPU, in fp32, within
    ``EXPLAINERS_FEATURE_CACHE_MB``: what does not fit, or another worker renders, is computed again.
    """

    def __init__(self) -> None:
        self.job: int | None = None
        self.kept: dict[str, torch.Tensor] = {}
        self.lock = threading.Lock()  # a threaded worker pool renders chunks side by side

    def offer(self, job: int, features: Mapping[str, torch.Tensor]) -> None:
        budget = settings.EXPLAINERS_FEATURE_CACHE_MB << 20
        with self.lock:
            if job != self.job:
                self.job, self.kept = job, {}
            used = sum(z.nbytes for z in self.kept.values())
            for key, z in features.items():
                if used + z.nbytes > budget:
                    return
                self.kept[key] = z.detach().to("cpu", torch.float32, copy=True)
                used += z.nbytes

    def keep_only(self, job: int, keys: set[str]) -> None:
        """Let go of all but the picks, once they are known."""
        with self.lock:
            if job == self.job:
                self.kept = {key: z for key, z in self.kept.items() if key in keys}

    def batch(self, job: int | None, keys: Sequence[str]) -> torch.Tensor | None:
        """The features of ``keys``, stacked (B, K, h, w), if every one of them is kept."""
        with self.lock:
            if job is None or job != self.job or not all(key in self.kept for key in keys):
                return None
            return torch.stack([self.kept[key] for key in keys])


FEATURES = Features()


def prediction_of(key: str, *, posteriors: list[float], target: list[float], share: float) -> Prediction:
    return Prediction(
        key=key,
        labels=tuple(name for name, t in zip(VOC_CLASSES, target, strict=True) if t > 0),
        posteriors=dict(zip(VOC_CLASSES, posteriors, strict=True)),
        attention=share,
        ignored=tuple(name for name, t in zip(VOC_CLASSES, target, strict=True) if t == IGNORED),
    )


def explanations_write(
    *,
    classifier: Any,
    decoder: Any,
    dataset: VOCDataset,
    indices: Sequence[int],
    classes: Sequence[str],
    targets: Sequence[Mapping[str, Path]],
    device: str,
    methods: Sequence[Method],
    saliency: str = "gradcam",
    precision: str = "fp32",
    batch_size: int = 16,
    workers: int = 0,
    threads: int = 2,
    features_of: int | None = None,
) -> list[dict[str, str]]:
    """Explain the images at ``indices``, each for its class, writing the kinds each asks for.

    ``targets[b]`` maps a kind (input, reconstruction or a method's key) to its file; returns their
    sha256s. Every method's image comes from the same pass of E, or none when ``FEATURES`` holds the
    batch's for the job ``features_of``. ``precision`` is ``EXPLAINERS_PRECISION``.
    """
    where = torch.device(device)
    dtype = inference_dtype(where, precision)
    class_ids = torch.tensor([VOC_CLASSES.index(name) for name in classes])  # (N,)
    loader = inference_loader(Subset(dataset, list(indices)), batch_size=batch_size, workers=workers)
    with PngWriter(threads=threads) as writer:
        start = 0
        for images, _ in loader:
            stop, images = start + len(images), to_device(images, where)  # (B, 3, S, S)
            z = FEATURES.batch(features_of, [dataset.ids[index] for index in indices[start:stop]])
            with inference_autocast(where, dtype):
                explanation = explain(
                    classifier,
                    decoder,
                    images,
                    class_ids[start:stop].to(where),
                    saliency=saliency,
                    features=None if z is None else z.to(where, non_blocking=True),
                )
            kinds = set().union(*targets[start:stop])
            outputs = {INPUT: images, RECONSTRUCTION: explanation.reconstructions}
            outputs |= {m.key: m.render(images, explanation) for m in methods if m.key in kinds}
            writer.batch_write(outputs, targets[start:stop])
            start = stop
        return writer.hashes()


class PngWriter:
    """Encodes and writes PNGs on a few threads while the caller computes the next batch.

    Each kind of a batch leaves the device once, as 8-bit pixels (a quarter of the floats' bytes); on
    CUDA the copy is asynchronous, into pinned memory, and the threads wait for it to land.
    """

    def __init__(self, *, threads: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="png")
        self.written: list[dict[str, Future[str]]] = []

    def __enter__(self) -> PngWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.pool.shutdown(wait=True, cancel_futures=error is not None)

    def batch_write(self, outputs: Mapping[str, torch.Tensor], wanted: Sequence[Mapping[str, Path]]) -> None:
        kinds = sorted(set().union(*wanted))
        pixels = {kind: frames(outputs[kind]).to("cpu", non_blocking=True) for kind in kinds}  # (B, H, W, 3)
        landed = _copies_landed(outputs[kinds[0]].device) if kinds else None
        submit = self.pool.submit
        self.written += [
            {kind: submit(_png_file_write, pixels[kind], b, path, landed) for kind, path in paths.items()}
            for b, paths in enumerate(wanted)
        ]

    def hashes(self) -> list[dict[str, str]]:
        """Each image's sha256, once every file is written; the first failure to write is raised."""
        return [{kind: future.result() for kind, future in paths.items()} for paths in self.written]


def _copies_landed(device: torch.device) -> torch.cuda.Event | None:
    if device.type != "cuda":
        return None
    event = torch.cuda.Event()
    event.record()
    return event


def _png_file_write(pixels: torch.Tensor, index: int, path: Path, landed: torch.cuda.Event | None) -> str:
    """Write one PNG atomically (a killed worker leaves no half file under ``path``); returns its sha256."""
    if landed is not None:
        landed.synchronize()
    data = png_bytes(pixels[index].numpy())
    partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.png")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return hashlib.sha256(data).hexdigest()
