"""A real demo bundle: networks trained for a few CPU minutes on synthetic VOC, rendered like any study.

Nothing is downloaded. The dataset and the trained checkpoints are kept in ``work_dir``, so a second
run only renders (seconds). The pictures are honest: a decoder trained for a minute rebuilds the
objects the model perceives as blurry blobs of their colour and rough shape; the "full" budget trains
longer (a GPU helps).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    classifier_lr: float  # peak of the one-cycle schedule, backbone and head alike (no pretrained weights)
    decoder_widths: tuple[int, int, int, int, int]  # one per up-sampling stage
    decoder_epochs: int
    decoder_lr: float  # peak of the one-cycle schedule
    duration: str  # how long the first run trains, for the progress lines


# Measured on two CPU cores. Every layer of the resnet18 learns, since there are no ImageNet weights
# to start from (nothing may be downloaded), and one-cycle schedules get the most out of a few epochs.
BUDGETS = {
    # For the test suite: seconds; the networks learn next to nothing.
    "tiny": Budget(64, 24, 40, 1, 1e-3, (16, 16, 8, 8, 8), 1, 3e-3, "seconds"),
    # About 1.5 minutes: classifier val mAP 0.77, right on ~87% of the test pictures (800 pictures and
    # a fourth epoch made it right on 158 of 160, leaving no wrong questions to ask); decoder val PSNR
    # 18 dB, its reconstructions show the objects' colours and rough shapes. Grad-CAM maps are 3x3 at
    # 96 px, still enough to tell one object from another.
    "quick": Budget(96, 600, 240, 3, 1e-3, (64, 32, 32, 16, 16), 8, 3e-3, "about 1.5 minutes"),
    # Tens of CPU minutes, or one on a GPU: more images, sharper 4x4 maps and a larger decoder. A better
    # model is rarely wrong, hence the larger test split.
    "full": Budget(128, 3000, 1000, 12, 1e-3, (256, 128, 64, 32, 32), 30, 2e-3, "tens of minutes"),
}
# Pixels only: in a few minutes of training, SSIM (even at a tenth of the loss) holds the decoder at
# the average grey, and DSIM costs two passes of E per step; with MSE alone the objects' colours appear.
DEMO_LOSS = {"mse": 1.0, "ssim": 0.0, "dsim": 0.0}


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
    cache = Path(work_dir) / f"{budget}-{plan_digest(plan)}-seed{seed}"  # a changed plan trains anew
    voc = voc_ensure(cache / "voc", plan=plan, seed=seed)
    classifier = classifier_ensure(cache / "classifier.pt", voc=voc, plan=plan, seed=seed, log=log)
    decoder = decoder_ensure(
        cache / "decoder.pt", classifier=classifier, voc=voc, plan=plan, seed=seed, log=log
    )
    log("Rendering the demo study's explanations")
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


def plan_digest(plan: Budget) -> str:
    trained_by = replace(plan, duration="")  # wording is not training
    return hashlib.sha256(repr((trained_by, DEMO_LOSS)).encode()).hexdigest()[:8]


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
    from explainers.nn.device import device_pick
    from explainers.nn.training.classifier import train_classifier

    torch.manual_seed(seed)
    model = classifier_build(ClassifierConfig(arch="resnet18", image_size=plan.image_size))
    model.to(device_pick(settings.EXPLAINERS_DEVICE))
    # Unaugmented: in a few epochs, augmentation slowed learning more than it helped (val mAP 0.69 with,
    # 0.73 without, at 96 px).
    train = VOCDataset(voc, split="train", image_size=plan.image_size)
    val = VOCDataset(voc, split="val", image_size=plan.image_size)
    log(
        f"Training the demo classifier (first run only, {plan.duration} in all): resnet18 from scratch "
        f"on {len(train)} synthetic {plan.image_size} px pictures, {plan.classifier_epochs} epochs"
    )
    partial = path.with_name(path.name + ".training")  # each epoch rewrites it; only the last is kept
    train_classifier(
        model,
        data_loader(train, batch_size=16, shuffle=True),  # small batches: more steps for the same work
        data_loader(val, batch_size=64, shuffle=False),
        epochs=plan.classifier_epochs,
        lr=plan.classifier_lr,
        head_lr_factor=1,  # no pretrained backbone to protect from a fast head
        one_cycle=True,
        out=partial,
        progress=False,
        log=lambda line: log(f"  classifier {line}"),
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
    from explainers.nn.device import device_pick
    from explainers.nn.losses import LossWeights
    from explainers.nn.training.decoder import EncodedImages, train_decoder

    torch.manual_seed(seed)
    device = device_pick(settings.EXPLAINERS_DEVICE)
    encoder = classifier_load(classifier, map_location=device)
    config = DecoderConfig.for_classifier(encoder, widths=plan.decoder_widths, convs=(1, 1, 1, 1, 1))
    log(f"Training the demo decoder (first run only): {plan.decoder_epochs} epochs")
    train = EncodedImages(encoder, VOCDataset(voc, split="train", image_size=plan.image_size))
    val = VOCDataset(voc, split="val", image_size=plan.image_size)
    partial = path.with_name(path.name + ".training")
    train_decoder(
        encoder,
        Decoder(config).to(device),
        data_loader(train, batch_size=8, shuffle=True),
        data_loader(val, batch_size=64, shuffle=False),
        epochs=plan.decoder_epochs,
        lr=plan.decoder_lr,
        weights=LossWeights(**DEMO_LOSS),
        one_cycle=True,
        out=partial,
        progress=False,
        log=lambda line: log(f"  decoder {line}"),
    )
    os.replace(partial, path)
    return path
