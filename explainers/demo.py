"""A real demo bundle: networks trained for a few CPU minutes on synthetic VOC, rendered like any study.

Nothing is downloaded. The dataset and the trained checkpoints are kept in ``work_dir``, so a second
run only renders (seconds). The pictures are honest: a decoder trained for a minute perceives little,
so its reconstructions are blurry; the "full" budget trains longer (a GPU helps).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from explainers.services import RenderError, checkpoint_register, render_job_create, render_job_run_here

logger = logging.getLogger(__name__)
Log = Callable[[str], None]
DEMO_NAME = "Demo: PV vs Grad-CAM"
DEMO_DESCRIPTION = (
    "A small model has looked at drawn pictures of shapes (each shape stands for a class) and named what "
    "it sees. For each picture you will see an explanation of its decision; guess what it predicted."
)


@dataclass(frozen=True)
class Budget:
    image_size: int  # side of the synthetic images and of the networks' input
    n_train: int  # synthetic training images (the decoder trains on them too)
    n_test: int  # images the questions are picked from
    classifier_epochs: int
    classifier_trains: tuple[str, ...]  # parameter name prefixes trained; the rest keep random weights
    decoder_widths: tuple[int, int, int, int, int]  # one per up-sampling stage
    decoder_epochs: int
    decoder_lr: float


BUDGETS = {
    # For the test suite: seconds; the networks learn next to nothing.
    "tiny": Budget(64, 24, 40, 1, ("layer4", "fc"), (16, 16, 8, 8, 8), 1, 3e-3),
    # About 1.5 CPU minutes on two cores: without ImageNet weights (nothing may be downloaded) only the
    # last block and the head learn, which is enough to be right on some images and wrong on others.
    "quick": Budget(96, 160, 80, 8, ("layer4", "fc"), (64, 32, 32, 16, 16), 8, 3e-3),
    # Tens of CPU minutes, or one on a GPU: every layer learns, and the decoder is larger.
    "full": Budget(128, 800, 200, 20, ("",), (256, 128, 64, 32, 32), 30, 1e-3),
}


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
    plan, cache = BUDGETS[budget], Path(work_dir) / f"{budget}-seed{seed}"
    voc = voc_ensure(cache / "voc", plan=plan, seed=seed)
    classifier = classifier_ensure(cache / "classifier.pt", voc=voc, plan=plan, seed=seed, log=log)
    decoder = decoder_ensure(
        cache / "decoder.pt", classifier=classifier, voc=voc, plan=plan, seed=seed, log=log
    )
    job = render_job_create(
        slug=slug,
        name=DEMO_NAME,
        description=DEMO_DESCRIPTION,
        classifier=checkpoint_register(kind="classifier", path=classifier, name=f"demo {budget} classifier"),
        decoder=checkpoint_register(kind="decoder", path=decoder, name=f"demo {budget} decoder"),
        dataset_root=voc,
        seed=seed,
        allow_shortfall=True,  # a briefly trained model may be right (or wrong) too rarely
        output_dir=directory,
        import_study=False,  # the caller imports the bundle
        enqueue=False,  # rendered here, whatever the broker: the caller waits for the bundle anyway
    )
    job = render_job_run_here(job_id=job.pk)
    log(f"Demo bundle rendered into {directory}. {job.note}")
    return directory


def voc_ensure(root: Path, *, plan: Budget, seed: int) -> Path:
    from explainers.nn.data import write_synthetic_voc  # torch: only the demo and the workers need it

    if not (root / "ImageSets" / "Main" / "test.txt").is_file():  # written last, so a whole set exists
        n_val = max(8, plan.n_train // 10)
        write_synthetic_voc(
            root, n_train=plan.n_train, n_val=n_val, n_test=plan.n_test, image_size=plan.image_size, seed=seed
        )
    return root


def classifier_ensure(path: Path, *, voc: Path, plan: Budget, seed: int, log: Log) -> Path:
    if path.is_file():
        return path
    import torch

    from explainers.nn.classifier import ClassifierConfig, classifier_build
    from explainers.nn.data import VOCDataset, data_loader
    from explainers.nn.train import device_pick, train_classifier

    torch.manual_seed(seed)
    model = classifier_build(ClassifierConfig(arch="resnet18", image_size=plan.image_size))
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith(plan.classifier_trains))
    model.to(device_pick(settings.EXPLAINERS_DEVICE))
    train = VOCDataset(voc, split="train", image_size=plan.image_size, augment=True)
    val = VOCDataset(voc, split="val", image_size=plan.image_size)
    log(f"Training the demo classifier (resnet18, {plan.image_size} px, {plan.classifier_epochs} epochs)")
    partial = path.with_name(path.name + ".training")  # each epoch rewrites it; only the last is kept
    train_classifier(
        model,
        data_loader(train, batch_size=32, shuffle=True),
        data_loader(val, batch_size=32, shuffle=False),
        epochs=plan.classifier_epochs,
        lr=1e-3,
        out=partial,
        progress=False,
        log=log,
    )
    os.replace(partial, path)
    return path


def decoder_ensure(path: Path, *, classifier: Path, voc: Path, plan: Budget, seed: int, log: Log) -> Path:
    if path.is_file():
        return path
    import torch

    from explainers.nn.classifier import classifier_load
    from explainers.nn.data import VOCDataset, data_loader
    from explainers.nn.decoder import Decoder, DecoderConfig
    from explainers.nn.losses import LossWeights
    from explainers.nn.train import device_pick, train_decoder

    torch.manual_seed(seed)
    device = device_pick(settings.EXPLAINERS_DEVICE)
    encoder = classifier_load(classifier, map_location=device)
    config = DecoderConfig.for_classifier(encoder, widths=plan.decoder_widths, convs=(1, 1, 1, 1, 1))
    train = VOCDataset(voc, split="train", image_size=plan.image_size)
    val = VOCDataset(voc, split="val", image_size=plan.image_size)
    log(f"Training the demo decoder ({plan.decoder_epochs} epochs)")
    partial = path.with_name(path.name + ".training")
    train_decoder(
        encoder,
        Decoder(config).to(device),
        data_loader(train, batch_size=16, shuffle=True),
        data_loader(val, batch_size=16, shuffle=False),
        epochs=plan.decoder_epochs,
        lr=plan.decoder_lr,
        # More weight on pixels than the paper's (0.2, 0.4, 0.4): with minutes of training, colours
        # and layout are what a decoder can learn.
        weights=LossWeights(mse=0.6, ssim=0.2, dsim=0.2),
        out=partial,
        progress=False,
        log=log,
    )
    os.replace(partial, path)
    return path
