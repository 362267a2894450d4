"""The datasets a researcher may build a study from: PASCAL VOC folders under the configured roots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from explainers.services.errors import RenderError

VOC_FOLDERS = ("JPEGImages", "Annotations", "ImageSets/Main")
# VOCdevkit/VOC2012 sits two levels under a root; the image folders below a dataset are never searched.
SEARCH_DEPTH = 3
SEARCH_LIMIT = 500  # folders looked at per root, so that a root holding a huge tree stays quick


@dataclass(frozen=True)
class DatasetFolder:
    path: Path
    label: str  # the path from its root, as the researcher knows it
    splits: tuple[str, ...]  # the image lists in ImageSets/Main, e.g. train, val, test


def dataset_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.EXPLAINERS_DATASET_ROOTS]


def dataset_folders() -> list[DatasetFolder]:
    """Every VOC-layout folder under the dataset roots, in path order."""
    return [folder for root in dataset_roots() if root.is_dir() for folder in _folders_under(root)]


def _folders_under(root: Path) -> list[DatasetFolder]:
    found = []
    for seen, (current, subfolders, _files) in enumerate(os.walk(root), 1):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        if _is_voc(here):
            found.append(DatasetFolder(here, _label(root, here), _splits(here)))
            subfolders.clear()  # JPEGImages and the like: thousands of files, never another dataset
        elif depth >= SEARCH_DEPTH or seen >= SEARCH_LIMIT:
            subfolders.clear()
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
    return found


def _is_voc(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in VOC_FOLDERS)


def _label(root: Path, folder: Path) -> str:
    inside = folder.relative_to(root).as_posix()
    return f"{root.name}/{inside}" if inside != "." else root.name


def _splits(folder: Path) -> tuple[str, ...]:
    # Class lists are named <class>_<split>.txt; the split lists themselves have no underscore.
    lists = (folder / "ImageSets" / "Main").glob("*.txt")
    return tuple(sorted(path.stem for path in lists if "_" not in path.stem))


def dataset_folder(*, path: Path | str) -> DatasetFolder:
    """The dataset at ``path``, which must be one found under a configured root."""
    wanted = Path(path).resolve()
    for folder in dataset_folders():
        if folder.path == wanted:
            return folder
    roots = ", ".join(str(root) for root in dataset_roots()) or "(none configured)"
    raise RenderError(f"{path} is not a dataset under the dataset roots ({roots})")
