"""Study building from trained networks: checkpoints, question selection, rendering, bundles and jobs.

Import the services from here; the submodules split them by subject.
"""

from __future__ import annotations

from explainers.services.bundle import bundle_spec, bundle_write
from explainers.services.checkpoints import checkpoint_export, checkpoint_network, checkpoint_register
from explainers.services.errors import RenderError, error_text
from explainers.services.jobs import (
    render_job_create,
    render_job_fail,
    render_job_finish,
    render_job_finish_when_done,
    render_job_retry,
    render_job_run_here,
    render_job_start,
)
from explainers.services.rendering import render_chunk
from explainers.services.selection import Prediction, options_pick, questions_select

__all__ = [
    "Prediction",
    "RenderError",
    "bundle_spec",
    "bundle_write",
    "checkpoint_export",
    "checkpoint_network",
    "checkpoint_register",
    "error_text",
    "options_pick",
    "questions_select",
    "render_chunk",
    "render_job_create",
    "render_job_fail",
    "render_job_finish",
    "render_job_finish_when_done",
    "render_job_retry",
    "render_job_run_here",
    "render_job_start",
]
