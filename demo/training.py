"""The demo's dataset and networks, made once and kept: each step shows a bar while it runs.

Every file is written under another name and renamed when whole, so an interrupted first run (Ctrl-C)
leaves nothing half-made that a later run would take for finished.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import astuple, dataclass
from pathlib import Path

from django.conf import settings

from demo.progress import Log, Ticking, phase
from explainers.nn.glyphs import Glyphs

CLASSIFIER_BATCH = 32  # small batches: more steps for the same arithmetic, which a short run needs
DECODER_BATCH = 16
# The authors' code's transposed kernel rather than the paper's 3: less arithmetic and, in a short run,
# stronger colours and fewer dots at the same PSNR (17.5 dB either way on the quick budget).
DECODER_TRANSPOSED_KERNEL = 2
VAL_BATCH = 64


@dataclass(frozen=True)
class Budget:
    image_size: int  # side of the synthetic pictures, of the networks' input and of the rendered images
    arch: str  # the classifier's backbone, one of explainers.nn.classifier.ARCHS; trained from scratch
    n_train: int  # training pictures; drawing one costs less than a training step, so none repeats often
    n_val: int  # pictures the quality report (mAP, PSNR, SSIM, agreement) is measured on
    n_test: int  # pictures the questions are picked from: inference only, and enough for 14 wrong ones
    classifier_epochs: int
    classifier_lr: float  # peak of the one-cycle schedule, for the backbone and the head alike
    decoder_images: int  # the first training pictures, which the decoder learns to rebuild
    decoder_widths: tuple[int, int, int, int, int]  # one per up-sampling stage
    decoder_epochs: int
    decoder_lr: float  # peak of the one-cycle schedule
    decoder_loss: tuple[float, float, float]  # the weights of MSE, L_SSIM and DSIM (see SHORT_RUN_LOSS)


PAPER_LOSS = (0.2, 0.4, 0.4)
# The paper's three terms, weighted for a run of a few hundred steps. With the paper's weights, the
# gradient of L_SSIM and of DSIM with respect to y is each about 300 times that of MSE (measured on the
# quick budget's networks), so in a short run nothing pulls y towards the picture's colours: after 1125
# steps the reconstructions are still grey, dotted where E responds (val PSNR 15.4 dB, SSIM 0.44,
# top-class agreement 92%). These weights make the three pulls about equal, and after 750 steps the
# colours are there (17.5 dB, 0.44, 92%); MSE alone gives 18.1 dB, but an agreement of 3%.
SHORT_RUN_LOSS = (0.98, 0.01, 0.01)

# The figures are the README's, from a first run on two CPU cores (bench/demo_first_run.py measures them).
BUDGETS = {
    # For the test suite: seconds; the networks learn next to nothing.
    "tiny": Budget(64, "resnet10_w32", 40, 16, 40, 1, 3e-3, 24, (32, 16, 16, 8, 8), 1, 3e-3, SHORT_RUN_LOSS),
    # The default: a few minutes on two CPU cores. A step of resnet10_w32 costs a seventh of a ResNet-18's
    # (bench/bench_demo.py): in less time than a ResNet-18 takes for 6 passes over 1000 pictures (val mAP
    # 0.62), it makes 4 passes over 4000 (0.79 to 0.82). The test split is large because the model is
    # rarely wrong under the paper's rule (P disjoint from L): one picture in 130 to 160.
    "quick": Budget(
        128, "resnet10_w32", 4000, 200, 4000, 4, 3e-3, 1000, (128, 64, 32, 16, 8), 12, 3e-3, SHORT_RUN_LOSS
    ),
    # Far longer: meant for a GPU. A ResNet-18 at 160 px, a wider decoder and the paper's own weights.
    "full": Budget(
        160, "resnet18", 8000, 400, 4000, 12, 1e-3, 4000, (256, 128, 64, 32, 32), 20, 2e-3, PAPER_LOSS
    ),
}


def plan_digest(plan: Budget) -> str:
    """Names the cache of a plan: whatever changes how the networks train changes it."""
    trained_by = (astuple(plan), CLASSIFIER_BATCH, DECODER_BATCH, DECODER_TRANSPOSED_KERNEL)
    return hashlib.sha256(repr(trained_by).encode()).hexdigest()[:8]


def voc_ensure(root: Path, *, plan: Budget, seed: int, glyphs: Glyphs, log: Log) -> Path:
    """The synthetic VOC folder at ``root``, drawn in ``glyphs`` unless a whole one is there already."""
    from explainers.nn.synthetic import write_synthetic_voc  # numpy and Pillow: only when drawing

    if (root / "ImageSets" / "Main" / "test.txt").is_file():  # written last, so a whole set exists
        return root
    partial = root.with_name(root.name + ".drawing")
    for leftover in (partial, root):  # what an interrupted run left
        shutil.rmtree(leftover, ignore_errors=True)
    total = plan.n_train + plan.n_val + plan.n_test
    what = f"drawing {total} synthetic {plan.image_size} px pictures with their VOC annotations"
    with phase("dataset", total=total, unit="pictures", log=log, what=what) as drawing:
        write_synthetic_voc(
            partial,
            n_train=plan.n_train,
            n_val=plan.n_val,
            n_test=plan.n_test,
            image_size=plan.image_size,
            seed=seed,
            glyphs=glyphs,
            on_image=drawing.step,
        )
    os.replace(partial, root)
    return root


def classifier_ensure(path: Path, *, voc: Path, plan: Budget, seed: int, log: Log) -> Path:
    """The demo classifier at ``path``, trained from scratch unless it is there already."""
    if path.is_file():
        return path
    import torch

    from explainers.nn.classifier import ClassifierConfig, classifier_build
    from explainers.nn.data import VOCDataset, data_loader
    from explainers.nn.device import device_pick
    from explainers.nn.training.classifier import train_classifier

    torch.manual_seed(seed)
    model = classifier_build(ClassifierConfig(arch=plan.arch, image_size=plan.image_size))
    # channels_last suits the CPU's convolutions: bench/bench_demo.py measures it.
    model.to(device_pick(settings.EXPLAINERS_DEVICE), memory_format=torch.channels_last)
    # Unaugmented: every picture is drawn anew with its own pose and colours, so more pictures (cheap)
    # do what augmentation would, without slowing each step.
    train = data_loader(
        VOCDataset(voc, split="train", image_size=plan.image_size), batch_size=CLASSIFIER_BATCH, shuffle=True
    )
    val = data_loader(
        VOCDataset(voc, split="val", image_size=plan.image_size), batch_size=VAL_BATCH, shuffle=False
    )
    epochs = plan.classifier_epochs
    what = (
        f"{plan.arch} from scratch on {len(train.dataset)} pictures, {counted(epochs, 'epoch')} "
        "(first run only)"
    )
    partial = path.with_name(path.name + ".training")  # each epoch rewrites it; only the last is kept
    with phase("classifier", total=epochs * len(train), unit="steps", log=log, what=what) as bar:
        train_classifier(
            model,
            Ticking(train, bar),
            val,
            epochs=plan.classifier_epochs,
            lr=plan.classifier_lr,
            head_lr_factor=1,  # no pretrained backbone to protect from a fast head
            one_cycle=True,
            out=partial,
            progress=False,
            log=lambda line: bar.say(f"  classifier {line} ({bar.pace()})"),
        )
    os.replace(partial, path)
    return path


def decoder_ensure(path: Path, *, classifier: Path, voc: Path, plan: Budget, seed: int, log: Log) -> Path:
    """The demo decoder at ``path``, trained with the paper's loss unless it is there already."""
    if path.is_file():
        return path
    import torch
    from torch.utils.data import Subset

    from explainers.nn.classifier import classifier_load
    from explainers.nn.data import VOCDataset, data_loader
    from explainers.nn.decoder import Decoder, DecoderConfig
    from explainers.nn.device import device_pick
    from explainers.nn.losses import LossWeights
    from explainers.nn.training.decoder import EncodedImages, train_decoder

    torch.manual_seed(seed)
    device = device_pick(settings.EXPLAINERS_DEVICE)
    encoder = classifier_load(classifier, map_location=device).to(memory_format=torch.channels_last)
    config = DecoderConfig.for_classifier(
        encoder,
        widths=plan.decoder_widths,
        convs=(1, 1, 1, 1, 1),
        transposed_kernel=DECODER_TRANSPOSED_KERNEL,
    )
    pictures = VOCDataset(voc, split="train", image_size=plan.image_size)
    subset = Subset(pictures, range(min(plan.decoder_images, len(pictures))))
    train = data_loader(EncodedImages(encoder, subset), batch_size=DECODER_BATCH, shuffle=True)
    val = data_loader(
        VOCDataset(voc, split="val", image_size=plan.image_size), batch_size=VAL_BATCH, shuffle=False
    )
    mse, ssim, dsim = plan.decoder_loss
    what = (
        f"rebuilding {len(subset)} pictures from the classifier's features, "
        f"{counted(plan.decoder_epochs, 'epoch')}, with the loss {mse:g} MSE + {ssim:g} SSIM + {dsim:g} DSIM "
        "(first run only)"
    )
    partial = path.with_name(path.name + ".training")
    with phase("decoder", total=plan.decoder_epochs * len(train), unit="steps", log=log, what=what) as bar:
        train_decoder(
            encoder,
            Decoder(config).to(device, memory_format=torch.channels_last),
            Ticking(train, bar),
            val,
            epochs=plan.decoder_epochs,
            lr=plan.decoder_lr,
            weights=LossWeights(mse, ssim, dsim),  # L_SSIM summed over channels, as the authors did
            one_cycle=True,
            out=partial,
            progress=False,
            log=lambda line: bar.say(f"  decoder {line} ({bar.pace()})"),
        )
    os.replace(partial, path)
    return path


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
