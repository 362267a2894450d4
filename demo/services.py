"""Setting the demo up: its study, rendered by trained networks or drawn, and a demo researcher login."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from demo.drawn import DEMO_SLUG, demo_bundle_write
from survey.models import Study
from survey.selectors.studies import study_by_slug
from survey.services.bundles import study_import_bundle
from survey.services.studies import study_open

DEMO_RESEARCHER = ("researcher", "researcher")  # username, password: printed, so only for DEBUG setups
Log = Callable[[str], None]


def demo_bundle(
    *,
    directory: Path,
    drawn: bool = False,
    budget: str = "quick",
    work_dir: Path | None = None,
    log: Log = print,
) -> Path:
    """Write the demo bundle into `directory`: rendered by trained networks, or drawn when `drawn`.

    The networks are trained for `budget` (demo.training.BUDGETS) on the first run only, and kept in
    `work_dir` (default var/demo-work).
    """
    if drawn:
        return demo_bundle_write(directory=directory)
    from demo.rendered import demo_bundle_render  # torch: only when networks train or render

    work_dir = work_dir or Path(settings.BASE_DIR) / "var" / "demo-work"
    return demo_bundle_render(directory=directory, work_dir=work_dir, budget=budget, slug=DEMO_SLUG, log=log)


def demo_study_ensure(
    *, drawn: bool = False, budget: str = "quick", work_dir: Path | None = None, log: Log = print
) -> tuple[Study, bool]:
    """The open demo study, imported from `demo_bundle` the first time; True when it was just created."""
    study = study_by_slug(slug=DEMO_SLUG)
    if study is None:
        with tempfile.TemporaryDirectory(prefix="demo-bundle-") as scratch:
            bundle = demo_bundle(
                directory=Path(scratch), drawn=drawn, budget=budget, work_dir=work_dir, log=log
            )
            return study_import_bundle(directory=bundle, open_study=True), True
    if not study.is_open:
        study_open(study=study)
    return study, False


@transaction.atomic
def demo_researcher_ensure() -> tuple[AbstractBaseUser | None, bool]:
    """A superuser with the published demo password, made only when DEBUG is on; True when just created."""
    username, password = DEMO_RESEARCHER
    user = get_user_model().objects.filter(username=username).first()
    if user is not None or not settings.DEBUG:
        return user, False
    return get_user_model().objects.create_superuser(username=username, email="", password=password), True
