"""What one training step of the demo's networks costs, by backbone and memory layout, as ratios.

    python bench/bench_demo.py [--rounds 5] [--size 128] [--batch 32] [--threads 1]

Each round times one step of every variant, in turn, so that a busy neighbour slows them all alike;
the tables give the median and the range over the rounds of each variant's speed against its table's
first: the old demo's ResNet-18 for the classifier, the old demo's MSE-only loss for the decoder (the
three terms cost the same whatever their weights), the former convolutions for SSIM.
Random weights and pictures: a step's cost does not depend on what was learnt.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.training import BUDGETS, DECODER_TRANSPOSED_KERNEL
from explainers.nn.classifier import ClassifierConfig, classifier_build
from explainers.nn.decoder import Decoder, DecoderConfig
from explainers.nn.losses import SSIM_SIGMA, SSIM_WINDOW, LossWeights, PerceptionLoss, gaussian_line, ssim
from explainers.nn.metrics import masked_bce
from explainers.nn.training.decoder import decoder_step
from explainers.nn.training.run import optimizer_step

Step = Callable[[], object]


def classifier_step(arch: str, x: Tensor, target: Tensor, channels_last: bool) -> Step:
    model = classifier_build(ClassifierConfig(arch=arch, image_size=x.shape[-1])).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    return lambda: optimizer_step(masked_bce(model(x), target), optimizer, scaler)


def demo_decoder_step(x: Tensor, weights: LossWeights, channels_last: bool) -> Step:
    plan = BUDGETS["quick"]
    encoder = classifier_build(ClassifierConfig(arch=plan.arch, image_size=x.shape[-1])).eval()
    encoder.requires_grad_(False)
    kernel = DECODER_TRANSPOSED_KERNEL
    config = DecoderConfig.for_classifier(
        encoder, widths=plan.decoder_widths, convs=(1, 1, 1, 1, 1), transposed_kernel=kernel
    )
    decoder = Decoder(config).train()
    if channels_last:
        encoder, decoder = (net.to(memory_format=torch.channels_last) for net in (encoder, decoder))
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    with torch.no_grad():
        z = encoder.encode(x)
    loss = PerceptionLoss(encoder, weights)
    return lambda: decoder_step(encoder, decoder, loss, x, optimizer, z)


def ssim_by_convolution(x: Tensor, y: Tensor) -> Tensor:
    """SSIM as losses.ssim computed it before: each blur a grouped 11x11 convolution. (B,) per image."""
    line = gaussian_line(SSIM_WINDOW, SSIM_SIGMA, x)
    window = torch.outer(line, line).expand(x.shape[1], 1, SSIM_WINDOW, SSIM_WINDOW)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(t, window, groups=x.shape[1])

    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y, cov = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2, blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return index.flatten(1).mean(1)


def ssim_step(x: Tensor, measure: Callable[[Tensor, Tensor], Tensor]) -> Step:
    y = torch.rand_like(x, requires_grad=True)
    return lambda: measure(y, x).sum().backward()


def variants(x: Tensor, target: Tensor) -> dict[str, dict[str, Step]]:
    """Tables of variants; each table's first is what the others are compared with."""
    quick = BUDGETS["quick"].arch
    terms, pixels = LossWeights(*BUDGETS["quick"].decoder_loss), LossWeights(mse=1.0, ssim=0.0, dsim=0.0)
    return {
        "classifier step": {
            "resnet18 (the old demo's)": classifier_step("resnet18", x, target, False),
            "resnet18, channels_last": classifier_step("resnet18", x, target, True),
            "resnet18_w32, channels_last": classifier_step("resnet18_w32", x, target, True),
            f"{quick}": classifier_step(quick, x, target, False),
            f"{quick}, channels_last": classifier_step(quick, x, target, True),
        },
        f"decoder step (on {quick})": {
            "MSE only (the old demo's loss), channels_last": demo_decoder_step(x, pixels, True),
            "MSE + SSIM + DSIM": demo_decoder_step(x, terms, False),
            "MSE + SSIM + DSIM, channels_last": demo_decoder_step(x, terms, True),
        },
        "SSIM, forward and backward": {
            "grouped 11x11 convolutions (before)": ssim_step(x, ssim_by_convolution),
            "two matrix products per blur (losses.ssim)": ssim_step(
                x, lambda y, x: ssim(y, x, reduction="none")
            ),
        },
    }


def timed(step: Step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="Rounds of one step per variant.")
    parser.add_argument("--size", type=int, default=BUDGETS["quick"].image_size, help="Image side (px).")
    parser.add_argument("--batch", type=int, default=32, help="Images per step.")
    parser.add_argument("--threads", type=int, default=1, help="Intra-op threads (1 is steadiest).")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.batch, 3, args.size, args.size)
    target = (torch.rand(args.batch, 20) > 0.9).float()
    tables = variants(x, target)
    steps = {(table, name): step for table, rows in tables.items() for name, step in rows.items()}
    for step in steps.values():
        step()  # warm-up: the first step allocates
    times: dict[tuple[str, str], list[float]] = {key: [] for key in steps}
    for _ in range(args.rounds):
        for key, step in steps.items():
            times[key].append(timed(step))
    print(f"{args.batch} pictures of {args.size} px, {args.threads} thread(s), CPU, {args.rounds} rounds")
    for table, rows in tables.items():
        print(f"\n{table:<48} {'median s':>8} {'speed vs first: median':>23} {'range':>12}")
        base = times[(table, next(iter(rows)))]
        for name in rows:
            seconds = times[(table, name)]
            ratios = [b / s for b, s in zip(base, seconds, strict=True)]
            print(
                f"{name:<48} {statistics.median(seconds):>8.3f} {statistics.median(ratios):>22.2f}x "
                f"{min(ratios):>5.2f}-{max(ratios):.2f}x"
            )


if __name__ == "__main__":
    main()
