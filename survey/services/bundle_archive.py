"""Study bundles as .zip archives: unpacked with care for an import, packed for a download.

An uploaded archive is checked entry by entry before a byte is unpacked: every entry must be a plain file
(no link, no device) at a relative path inside the archive, named study.json or an image, and the entries
together must stay under the configured caps on file count and unpacked size (a zip bomb is refused).
Then the unpacked folder goes through the same all-or-nothing validation as ``import_study``.
"""

from __future__ import annotations

import re
import stat
import tempfile
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

from survey.models import Study
from survey.services.bundle_spec import BUNDLE_FILE
from survey.services.bundle_validation import BundleError, image_problem
from survey.services.bundles import study_export_bundle, study_import_bundle

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# What macOS's and Windows' archivers add on their own; never part of a bundle, so left out, not refused.
ARCHIVER_LITTER = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
COPY_CHUNK = 1 << 16
MB = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def study_import_zip(*, upload: IO[bytes], open_study: bool = False, replace: bool = False) -> Study:
    """Unpack a bundle archive into a scratch folder and import it; nothing is imported on any problem."""
    with tempfile.TemporaryDirectory(prefix="bundle-zip-") as scratch:
        root = bundle_zip_unpack(archive=upload, directory=Path(scratch))
        return study_import_bundle(directory=root, open_study=open_study, replace=replace)


def bundle_zip_unpack(*, archive: IO[bytes], directory: Path) -> Path:
    """Unpack a checked archive into ``directory`` (empty); returns the folder that holds study.json."""
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(["the upload is not a .zip archive"]) from exc
    with bundle:
        members = _members_checked(bundle.infolist())
        _members_extract(bundle, members, directory=directory)
    problems = [
        f"{path.relative_to(directory).as_posix()} {problem}"
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != BUNDLE_FILE and (problem := image_problem(path))
    ]
    if problems:
        raise BundleError(problems)
    return _bundle_root(directory)


def _members_checked(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The entries to unpack, or BundleError naming every entry that may not be unpacked."""
    problems: list[str] = []
    members = [info for info in infos if not _is_litter(info.filename)]
    for info in members:
        if problem := _member_problem(info):
            problems.append(f"{info.filename}: {problem}")
    files = [info for info in members if not info.is_dir()]
    problems += [f"{name}: is in the archive more than once" for name, n in _counts(files).items() if n > 1]
    limit_files, limit_mb = settings.SURVEY_IMPORT_MAX_FILES, settings.SURVEY_IMPORT_MAX_MB
    if len(files) > limit_files:
        problems.append(f"the archive holds {len(files)} files; at most {limit_files} are accepted")
    unpacked = sum(info.file_size for info in files)
    if unpacked > limit_mb * MB:
        problems.append(f"the archive unpacks to {unpacked / MB:.0f} MB; at most {limit_mb} MB are accepted")
    if problems:
        raise BundleError(problems)
    return files


def _is_litter(name: str) -> bool:
    return any(part in ARCHIVER_LITTER or part.startswith("._") for part in PurePosixPath(name).parts)


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith("/") or _DRIVE.match(name) or "\\" in name or "\x00" in name:
        return "is not a relative path inside the archive"
    if ".." in path.parts:
        return "points outside the archive"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link; a bundle holds only plain files"
    if mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "is not a plain file"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.is_dir():
        return None
    if path.name != BUNDLE_FILE and path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"is not an image (a bundle holds {BUNDLE_FILE} and PNG, JPEG, GIF or WebP images)"
    return None


def _counts(files: list[zipfile.ZipInfo]) -> Counter[str]:
    return Counter(str(PurePosixPath(info.filename)) for info in files)


def _members_extract(bundle: zipfile.ZipFile, members: list[zipfile.ZipInfo], *, directory: Path) -> None:
    # The sizes the archive declares were checked; what it really unpacks to is counted again here,
    # since a crafted archive may declare less than it holds.
    budget = settings.SURVEY_IMPORT_MAX_MB * MB
    root = directory.resolve()
    for info in members:
        target = (root / PurePosixPath(info.filename)).resolve()
        if not target.is_relative_to(root):
            raise BundleError([f"{info.filename}: points outside the archive"])
        target.parent.mkdir(parents=True, exist_ok=True)
        with bundle.open(info) as source, target.open("xb") as sink:
            budget = _copy_capped(source, sink, budget=budget, name=info.filename)


def _copy_capped(source: IO[bytes], sink: IO[bytes], *, budget: int, name: str) -> int:
    while chunk := source.read(COPY_CHUNK):
        budget -= len(chunk)
        if budget < 0:
            limit = settings.SURVEY_IMPORT_MAX_MB
            raise BundleError([f"{name}: the archive unpacks to more than {limit} MB, the most accepted"])
        sink.write(chunk)
    return budget


def _bundle_root(directory: Path) -> Path:
    """study.json at the archive's top, or in its one top folder (how zipping a folder packs it)."""
    if (directory / BUNDLE_FILE).is_file():
        return directory
    tops = list(directory.iterdir())
    if len(tops) == 1 and tops[0].is_dir() and (tops[0] / BUNDLE_FILE).is_file():
        return tops[0]
    raise BundleError([f"the archive has no {BUNDLE_FILE} at its top, nor in a single folder at its top"])


def study_export_zip(*, study: Study) -> IO[bytes]:
    """The study's bundle as a .zip in an anonymous temporary file, rewound; it is gone once closed.

    The archive holds one folder named after the slug, as zipping an exported folder would.
    """
    archive = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    try:
        with tempfile.TemporaryDirectory(prefix="bundle-export-") as scratch:
            folder = study_export_bundle(study=study, directory=Path(scratch) / study.slug)
            _folder_zip(folder, archive=archive)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive


def _folder_zip(folder: Path, *, archive: IO[bytes]) -> None:
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            # Images are compressed already; only study.json gains from deflating.
            method = zipfile.ZIP_DEFLATED if path.name == BUNDLE_FILE else zipfile.ZIP_STORED
            bundle.write(path, arcname=path.relative_to(folder.parent).as_posix(), compress_type=method)
