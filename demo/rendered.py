"""A real demo bundle: networks trained for a few CPU minutes on synthetic VOC, rendered like any study.

Nothing is downloaded. The dataset and the trained networks are kept in ``work_dir``, so a second run
only renders (seconds). The pictures are emoji scenes (the emoji font, ``make fonts``) or, without it,
coloured shapes; the decoder learns the paper's loss, scaled down, and rebuilds what the classifier
perceives as the objects' colours and rough shapes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from demo.progress import Log, phase
from demo.training import BUDGETS, classifier_ensure, decoder_ensure, plan_digest, voc_ensure
from explainers.models import Checkpoint, RenderJob
from explainers.nn.glyphs import glyphs_load
from explainers.services import (
    RenderError,
    checkpoint_register,
    error_text,
    render_chunk,
    render_job_create,
    render_job_fail,
    render_job_finish,
    render_job_start,
)

logger = logging.getLogger(__name__)
DEMO_NAME = "Demo: PV vs Grad-CAM"
DEMO_DESCRIPTION = (
    "A small AI model has looked at a series of pictures and named what it sees in each: people, animals, "
    "vehicles and things around the house. For each picture you will see an explanation of its decision; "
    "your task is to guess what the model predicted."
)
N_CORRECT, N_WRONG = 16, 14  # the paper's split of questions where the model was right and wrong

DRAWN_HINT = (
    "A survey in seconds instead? Press Ctrl-C and run `make demo DEMO_FLAGS=--drawn` (or `manage.py "
    "demo_setup --drawn`): drawn placeholder explanations, no training."
)


def demo_bundle_render(
    *,
    directory: Path,
    work_dir: Path,
    seed: int = 0,
    budget: str = "quick",
    slug: str = "demo",
    log: Log = logger.info,
) -> Path:
    """Train (or reuse) the demo networks and render a 16 right / 14 wrong bundle into ``directory``."""
    if budget not in BUDGETS:
        raise RenderError(f"demo budget must be one of {', '.join(BUDGETS)}, got {budget!r}")
    plan = BUDGETS[budget]
    glyphs = glyphs_load()
    if glyphs.note:
        log(f"Note: {glyphs.note}.")
    # A changed plan, seed or font trains anew, beside the old networks.
    cache = Path(work_dir) / f"{budget}-{plan_digest(plan)}-seed{seed}-{glyphs.kind}"
    if not (cache / "decoder.pt").is_file():
        log(
            f"First run: the demo draws its pictures and trains two small networks on this machine, kept in "
            f"{cache}, so that later runs start in seconds. Each phase says how long it has left."
        )
        log(DRAWN_HINT)
    voc = voc_ensure(cache / "voc", plan=plan, seed=seed, glyphs=glyphs, log=log)
    classifier = classifier_ensure(cache / "classifier.pt", voc=voc, plan=plan, seed=seed, log=log)
    if not (cache / "decoder.pt").is_file():
        log(DRAWN_HINT)  # again, as the longest phase begins
    decoder = decoder_ensure(
        cache / "decoder.pt", classifier=classifier, voc=voc, plan=plan, seed=seed, log=log
    )
    networks = (
        checkpoint_register(kind="classifier", path=classifier, name=f"demo {budget} classifier"),
        checkpoint_register(kind="decoder", path=decoder, name=f"demo {budget} decoder"),
    )
    log(quality_report(classifier=networks[0], decoder=networks[1]))
    job = render_job_create(
        slug=slug,
        name=DEMO_NAME,
        description=DEMO_DESCRIPTION,
        classifier=networks[0],
        decoder=networks[1],
        dataset_root=voc,
        n_correct=N_CORRECT,
        n_wrong=N_WRONG,
        seed=seed,
        allow_shortfall=True,  # a briefly trained model may be right (or wrong) too rarely
        output_dir=directory,
        import_study=False,  # the caller imports the bundle
        enqueue=False,  # rendered here, whatever the broker: the caller waits for the bundle anyway
    )
    job = job_render(job_id=job.pk, log=log)
    log(f"Demo bundle rendered into {directory}. {job.note}")
    return directory


def quality_report(*, classifier: Checkpoint, decoder: Checkpoint) -> str:
    """How good the demo's networks are, measured on the validation pictures when they were trained."""
    m, d, config = classifier.metrics, decoder.metrics, classifier.config
    return (
        f"Demo networks: the classifier ({config.get('arch')}, {config.get('image_size')} px) has val mAP "
        f"{_figure(m, 'map', '.2f')}; the decoder rebuilds the val pictures at PSNR "
        f"{_figure(d, 'psnr', '.1f')} dB and SSIM {_figure(d, 'ssim', '.2f')}, and the classifier names "
        f"the same top class for {_figure(d, 'agreement', '.0%')} of its reconstructions as for the pictures "
        "(top-class agreement)."
    )


def _figure(metrics: Mapping[str, Any], key: str, spec: str) -> str:
    value = metrics.get(key)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "unknown"
    return format(value, spec)


def job_render(*, job_id: int, log: Log) -> RenderJob:
    """``render_job_run_here``, step by step, moving a bar as each chunk of questions is rendered."""
    with phase("render", total=1, unit="chunks", log=log, what="picking and rendering the questions") as bar:
        try:
            chunks = render_job_start(job_id=job_id) or []
            bar.resize(len(chunks))
            for keys in chunks:
                render_chunk(job_id=job_id, keys=keys)
                bar.step()
            return render_job_finish(job_id=job_id)
        except Exception as exc:
            render_job_fail(job_id=job_id, error=error_text(exc))
            raise
