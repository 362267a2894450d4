"""Side-by-side timings of the explainers, printed as ratios (how many times faster ours is).

    python bench/bench_explainers.py [--size 224] [--batch 4] [--repeats 2] [--threads 1] [--device cpu]

1. Grad-CAM through ``torch.autograd.grad`` to layer4 only, against the naive recipe that calls
   ``loss.backward()`` and so back-propagates into every parameter of the network.
2. One batched ``explain`` call against a loop of one ``explain`` per image.
3. ``explain`` (one pass of E shared by Grad-CAM and D) against Grad-CAM and D(E(x)) computed apart.

Random weights (resnet18 and its full-width decoder): the timings do not depend on what was learnt.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explainers.nn.classifier import Classifier, ClassifierConfig, classifier_build
from explainers.nn.decoder import Decoder, DecoderConfig
from explainers.nn.gradcam import cam_from_gradients, grad_cam
from explainers.nn.perception import explain


def naive_grad_cam(model: nn.Module, layer: nn.Module, images: Tensor, classes: Tensor) -> Tensor:
    """Grad-CAM as often written: hooks keep the activation and its gradient, ``backward`` does the rest."""
    kept: dict[str, Tensor] = {}

    def keep(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        kept["activation"] = output
        output.register_hook(lambda grad: kept.__setitem__("gradient", grad))

    handle = layer.register_forward_hook(keep)
    try:
        model.zero_grad(set_to_none=True)
        model(images).gather(1, classes.view(-1, 1)).sum().backward()
    finally:
        handle.remove()
    return cam_from_gradients(kept["activation"].detach(), kept["gradient"], tuple(images.shape[-2:]))


def best_time(run: Callable[[], object], repeats: int, device: torch.device) -> float:
    """The fastest of ``repeats`` runs after one warm-up: the least disturbed by other processes."""
    run()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


def separate_passes(model: Classifier, decoder: Decoder, images: Tensor, classes: Tensor) -> Tensor:
    masks = grad_cam(model, model.layer4, images, classes)
    with torch.inference_mode():
        return decoder(model.encode(images)) * masks.unsqueeze(1)


def rows(model: Classifier, decoder: Decoder, x: Tensor, repeats: int) -> list[tuple[str, float, float]]:
    device, classes = x.device, torch.arange(len(x), device=x.device) % 20
    torch.testing.assert_close(  # the two Grad-CAMs must agree before their timings mean anything
        naive_grad_cam(model, model.layer4, x, classes), grad_cam(model, model.layer4, x, classes)
    )
    naive = best_time(lambda: naive_grad_cam(model, model.layer4, x, classes), repeats, device)
    ours = best_time(lambda: grad_cam(model, model.layer4, x, classes), repeats, device)
    batched = best_time(lambda: explain(model, decoder, x), repeats, device)
    looped = best_time(lambda: [explain(model, decoder, image[None]) for image in x], repeats, device)
    apart = best_time(lambda: separate_passes(model, decoder, x, classes), repeats, device)
    return [
        ("Grad-CAM: autograd.grad vs full backward", naive, ours),
        ("explain: batched vs one image at a time", looped, batched),
        ("explain: shared E pass vs Grad-CAM + D(E(x))", apart, batched),
    ]


def table(results: list[tuple[str, float, float]]) -> str:
    lines = [f"{'comparison':<46} {'baseline s':>10} {'ours s':>8} {'ratio':>6}"]
    lines += [f"{name:<46} {base:>10.3f} {ours:>8.3f} {base / ours:>5.2f}x" for name, base, ours in results]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="Image side in pixels.")
    parser.add_argument("--batch", type=int, default=4, help="Images per batch.")
    parser.add_argument("--repeats", type=int, default=2, help="Timed runs per measurement (best kept).")
    parser.add_argument(
        "--threads", type=int, default=1, help="Intra-op CPU threads (1 is steadiest on shared CPUs)."
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = classifier_build(ClassifierConfig(arch="resnet18", image_size=args.size)).to(device).eval()
    decoder = Decoder(DecoderConfig.for_classifier(model)).to(device).eval()
    x = torch.rand(args.batch, 3, args.size, args.size, device=device)
    print(f"resnet18 + decoder, {args.batch} images of {args.size} px, {device}, {args.threads} thread(s)")
    print(table(rows(model, decoder, x, args.repeats)))


if __name__ == "__main__":
    main()
