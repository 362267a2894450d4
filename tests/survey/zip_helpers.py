"""Study bundles packed as .zip archives, good and bad, as a researcher's upload would be."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.survey.bundle_helpers import bundle_write


def folder_zip(
    folder: Path, *, top: str | None = None, extra: Callable[[zipfile.ZipFile], None] | None = None
) -> bytes:
    """The folder's files as a .zip, under ``top/`` when given; ``extra`` may add entries of its own."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, arcname=f"{top}/{name}" if top else name)
        if extra is not None:
            extra(archive)
    return buffer.getvalue()


def bundle_zip(base: Path, *, slug: str = "bundled", top: str | None = None, **extra: object) -> bytes:
    return folder_zip(bundle_write(base / slug, slug=slug), top=top, **extra)


def upload(data: bytes, name: str = "bundle.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def add_symlink(archive: zipfile.ZipFile, name: str = "images/link.png", target: str = "/etc/passwd") -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)
