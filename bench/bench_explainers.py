"""Explanation speed: explain() against its limit D(E(x)) and against pytorch-grad-cam; bf16; a GPU.

    python bench/bench_explainers.py [--rounds 3] [--batches 1,8] [--size 224] [--threads 1]

1. ResNet-50 at 224 px and the paper's decoder, with random weights (the time does not depend on what
   was learnt), at batch 1 and 8. Each round runs every variant once, in an order rotated each round:
   - explain(): one pass of E shared by Grad-CAM and D, with the survey's pictures composed;
   - the limit, D(E(x)) under inference_mode: what any PV must compute;
   - pytorch-grad-cam's GradCAM on layer4 (grad-cam 1.5.7), then D(E(x)) under inference_mode;
   - explain() on the same networks in the NCHW layout, against the NHWC that rendering loads.
   A round's times give its ratios; the table shows their median and range over the rounds.
2. bf16 against fp32 (CPU autocast here, CUDA autocast on a GPU): the mean absolute difference of the
   PV and Grad-CAM pictures, in 8-bit levels, against nn.device.BF16_PIXEL_ERROR_BOUND.
3. On CUDA only: explanations per second at batch 1, 32 and 128 (bf16, channels_last), GPU memory per
   image, the fraction of the bf16 matrix-multiply peak measured in the same run, and one decoder
   training epoch on 8,077 images at 224 px, extrapolated to the paper's 250 epochs. ``--smoke`` runs
   this section on the CPU at toy sizes, to check the code, and measures nothing.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explainers.nn.classifier import Classifier, ClassifierConfig, classifier_build
from explainers.nn.data import VOCDataset, write_synthetic_voc
from explainers.nn.decoder import Decoder, DecoderConfig
from explainers.nn.device import BF16_PIXEL_ERROR_BOUND, channels_last, inference_autocast
from explainers.nn.losses import PerceptionLoss
from explainers.nn.perception import explain
from explainers.nn.render import frames
from explainers.nn.training.decoder import decoder_step

Variant = Callable[[], object]
PAPER_EPOCHS = 250
VOC_TRAIN_IMAGES = 8077


def networks(size: int, device: torch.device) -> tuple[Classifier, Decoder]:
    torch.manual_seed(0)
    classifier = classifier_build(ClassifierConfig(arch="resnet50", image_size=size))
    decoder = Decoder(DecoderConfig.for_classifier(classifier))  # the paper's: transposed kernel 3
    return channels_last(classifier.to(device).eval()), channels_last(decoder.to(device).eval())


def synchronised(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Variant, device: torch.device) -> float:
    synchronised(device)
    started = time.perf_counter()
    run()
    synchronised(device)
    return time.perf_counter() - started


def limit(classifier: Classifier, decoder: Decoder, x: Tensor) -> Tensor:
    with torch.inference_mode():
        return decoder(classifier.encode(x))


def with_pytorch_grad_cam(classifier: Classifier, decoder: Decoder, x: Tensor) -> Tensor:
    from pytorch_grad_cam import GradCAM

    with GradCAM(model=classifier, target_layers=[classifier.layer4]) as cam:
        masks = cam(input_tensor=x, targets=None)  # each image's top class, as explain() does
    return limit(classifier, decoder, x) * torch.from_numpy(masks).to(x.device).unsqueeze(1)


def rounds_run(variants: dict[str, Variant], rounds: int, device: torch.device) -> dict[str, list[float]]:
    """Every variant once per round (after one untimed warm-up round), the order rotated each round."""
    names = list(variants)
    for name in names:
        variants[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names[number % len(names) :] + names[: number % len(names)]:
            times[name].append(timed(variants[name], device))
    return times


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):>6.2f}x {min(values):>5.2f}-{max(values):<5.2f}"


def speed_section(size: int, batches: list[int], rounds: int, device: torch.device) -> None:
    classifier, decoder = networks(size, device)
    nchw = [copy.deepcopy(net).to(memory_format=torch.contiguous_format) for net in (classifier, decoder)]
    print(
        f"{'batch':>5} {'explain s':>10} {'vs limit D(E(x))':>22} {'vs pytorch-grad-cam':>22} "
        f"{'vs NCHW networks':>22}"
    )
    for batch in batches:
        x = torch.rand(batch, 3, size, size, device=device)
        nhwc = x.contiguous(memory_format=torch.channels_last)
        times = rounds_run(
            {
                "explain": lambda x=nhwc: explain(classifier, decoder, x),
                "limit": lambda x=nhwc: limit(classifier, decoder, x),
                "pytorch-grad-cam": lambda x=nhwc: with_pytorch_grad_cam(classifier, decoder, x),
                "nchw": lambda x=x: explain(*nchw, x),
            },
            rounds,
            device,
        )
        ours = times["explain"]
        # explain's speed as a share of the limit's; how many times faster than the others
        of_limit = [bound / mine for bound, mine in zip(times["limit"], ours, strict=True)]
        faster = [theirs / mine for theirs, mine in zip(times["pytorch-grad-cam"], ours, strict=True)]
        layout = [theirs / mine for theirs, mine in zip(times["nchw"], ours, strict=True)]
        print(
            f"{batch:>5} {statistics.median(ours):>10.3f} {spread(of_limit):>22} {spread(faster):>22} "
            f"{spread(layout):>22}"
        )


def bf16_section(size: int, images: int, device: torch.device) -> None:
    classifier, decoder = networks(size, device)
    root = write_synthetic_voc(
        Path(tempfile.mkdtemp()) / "voc", n_train=0, n_val=0, n_test=images, image_size=size
    )
    dataset = VOCDataset(root, split="test", image_size=size)
    x = (
        torch.stack([dataset[i][0] for i in range(images)])
        .to(device)
        .contiguous(memory_format=torch.channels_last)
    )
    full = explain(classifier, decoder, x)
    with inference_autocast(device, torch.bfloat16):
        half = explain(classifier, decoder, x, full.classes)
    print(f"{images} synthetic VOC pictures, {device.type} autocast; bound {BF16_PIXEL_ERROR_BOUND} levels")
    print(f"{'picture':<10} {'mean |bf16 - fp32|':>20} {'max':>6}")
    for picture in ("pv", "gradcam"):
        levels = (frames(getattr(half, picture)).float() - frames(getattr(full, picture)).float()).abs()
        print(f"{picture:<10} {levels.mean().item():>14.3f} levels {levels.max().item():>6.0f}")


def matmul_peak(device: torch.device, side: int, repeats: int) -> float:
    """bf16 matrix-multiply FLOP/s, measured: the ceiling the other figures are a fraction of."""
    a = torch.rand(side, side, device=device, dtype=torch.bfloat16)
    b = torch.rand(side, side, device=device, dtype=torch.bfloat16)
    a @ b
    elapsed = timed(lambda: [a @ b for _ in range(repeats)], device)
    return 2 * side**3 * repeats / elapsed


def explain_flops(classifier: Classifier, decoder: Decoder, x: Tensor) -> float:
    """FLOPs per image of E and D, which are all but a sliver of explain()'s: the head's gradient and
    the masks are four orders of magnitude less. (The counter cannot follow autograd.grad to a leaf.)"""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        limit(classifier, decoder, x)
    return counter.get_total_flops() / len(x)


def gpu_throughput(size: int, batches: list[int], repeats: int, device: torch.device) -> None:
    classifier, decoder = networks(size, device)
    peak = matmul_peak(device, side=8192 if device.type == "cuda" else 256, repeats=repeats)
    flops = explain_flops(classifier, decoder, torch.rand(1, 3, size, size, device=device))
    print(f"bf16 matmul peak measured: {peak / 1e12:.1f} TFLOP/s; E + D: {flops / 1e9:.1f} GFLOP per image")
    print(f"{'batch':>5} {'explanations/s':>15} {'MiB per image':>14} {'of bf16 peak':>13}")
    for batch in batches:
        x = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)

        def run(x: Tensor = x) -> None:
            with inference_autocast(device, torch.bfloat16):
                explain(classifier, decoder, x)

        run()
        base = torch.cuda.memory_allocated(device) if device.type == "cuda" else 0
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        per_second = batch * repeats / timed(lambda run=run: [run() for _ in range(repeats)], device)
        used = (
            (torch.cuda.max_memory_allocated(device) - base) / batch / 2**20 if device.type == "cuda" else 0
        )
        print(f"{batch:>5} {per_second:>15.1f} {used:>14.1f} {per_second * flops / peak:>12.1%}")


def decoder_epoch(size: int, images: int, batch: int, device: torch.device) -> None:
    """One epoch of train_decoder's step (bf16 autocast on CUDA) on images already on the device.

    Data loading is left out: on a GPU this fast it is a matter of enough decoding processes.
    """
    classifier, decoder = networks(size, device)
    classifier.requires_grad_(False)
    decoder.train()
    loss = PerceptionLoss(classifier)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-4)
    pool = torch.rand(min(images, 4 * batch), 3, size, size, device=device)  # cycled: the time is the same
    pool = pool.contiguous(memory_format=torch.channels_last)
    steps = -(-images // batch)
    decoder_step(classifier, decoder, loss, pool[:batch], optimizer)  # warm-up: kernels, allocator

    def epoch() -> None:
        for step in range(steps):
            start = (step * batch) % len(pool)
            decoder_step(classifier, decoder, loss, pool[start : start + batch], optimizer)

    elapsed = timed(epoch, device)
    recipe = elapsed * PAPER_EPOCHS / 60
    print(
        f"decoder epoch on {images} images at {size} px, batch {batch}: {elapsed:.1f} s; "
        f"the paper's {PAPER_EPOCHS} epochs: {recipe:.1f} min (goal on one H200: under 15)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="Image side in pixels.")
    parser.add_argument("--batches", default="1,8", help="Batch sizes of the comparison.")
    parser.add_argument("--rounds", type=int, default=3, help="Timed rounds per batch size.")
    # One thread: on a shared machine, a second one waits at every operator's barrier whenever another
    # process has its core, which swamps what is being compared.
    parser.add_argument("--threads", type=int, default=1, help="Intra-op CPU threads.")
    parser.add_argument("--bf16-images", type=int, default=8, help="Pictures compared in bf16 and fp32.")
    parser.add_argument("--train-batch", type=int, default=32, help="Decoder training batch on the GPU.")
    parser.add_argument("--smoke", action="store_true", help="Run the GPU section on the CPU at toy sizes.")
    parser.add_argument(
        "--device", default="cpu", help="Where sections 1 and 2 run: cpu (default) or cuda (then also 3)."
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    where = f"CPU ({args.threads} threads)" if device.type == "cpu" else torch.cuda.get_device_name(device)
    print(f"ResNet-50 + the paper's decoder at {args.size} px, {where}")
    print(f"\n-- explain() against its limit and pytorch-grad-cam, {args.rounds} rounds: median and range")
    speed_section(args.size, [int(b) for b in args.batches.split(",")], args.rounds, device)
    print(f"\n-- bf16 against fp32 ({device.type}): what it changes in the pictures")
    bf16_section(args.size, args.bf16_images, device)
    print("\n-- GPU")
    if args.smoke:
        gpu_throughput(64, [1, 2], 1, torch.device("cpu"))
        decoder_epoch(64, 8, 4, torch.device("cpu"))
        print("(smoke run on the CPU at toy sizes: nothing above measures a GPU)")
    elif torch.cuda.is_available():
        cuda = torch.device("cuda")
        print(torch.cuda.get_device_name(cuda))
        if device.type != "cuda":
            bf16_section(args.size, args.bf16_images, cuda)
        gpu_throughput(args.size, [1, 32, 128], 20, cuda)
        decoder_epoch(args.size, VOC_TRAIN_IMAGES, args.train_batch, cuda)
    else:
        print("no CUDA device here: nothing was measured on a GPU")


if __name__ == "__main__":
    main()
