"""Where and in what precision the networks run: the device, mixed precision and its loss scaling."""

from __future__ import annotations

from contextlib import AbstractContextManager

import torch
from torch import nn
from torch.amp import GradScaler


def device_pick(name: str = "auto") -> torch.device:
    """``auto`` is CUDA when present, else the CPU; asking for an absent CUDA is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but this machine has no usable CUDA")
    return device


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def amp_dtype(device: torch.device, bf16_supported: bool) -> torch.dtype | None:
    """Mixed precision's type: bf16 on CUDA if the GPU has it, else fp16; None (full precision) elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if bf16_supported else torch.float16


def device_amp_dtype(device: torch.device) -> torch.dtype | None:
    return amp_dtype(device, device.type == "cuda" and torch.cuda.is_bf16_supported())


def autocast(device: torch.device) -> AbstractContextManager:
    """Mixed precision on CUDA (see ``amp_dtype``); full precision elsewhere."""
    dtype = device_amp_dtype(device)
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


PRECISIONS = ("auto", "fp32", "bf16")  # for inference: auto is bf16 on a CUDA GPU that has it, else fp32
# The most bf16 may change a study's pictures: the mean absolute difference from fp32 of the PV and the
# Grad-CAM images, in 8-bit levels (of 255). bench/RESULTS.md records what it measures against it.
BF16_PIXEL_ERROR_BOUND = 2.0


def inference_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast type explanations are computed in: None is full precision.

    bf16 keeps fp32's range, so nothing overflows, and the saliency maps are computed in fp32 whatever
    the type (``gradcam.cam_from_gradients``). "bf16" on a CPU runs CPU autocast, which is how its error
    against fp32 is measured without a GPU.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if precision == "bf16" else None


def inference_autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager:
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def channels_last(module: nn.Module) -> nn.Module:
    """The network with NHWC weights, which its convolutions run fastest on.

    cuDNN's tensor-core kernels want NHWC, and so does oneDNN on the CPU: ResNet-50 and the paper's decoder
    ran ``explain`` 1.05-1.10x faster so with one thread and 1.7x with two on a 2-core AVX-512 machine
    (bench/RESULTS.md), with outputs within 3e-6.
    """
    return module.to(memory_format=torch.channels_last)


def grad_scaler(device: torch.device) -> GradScaler:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 need none (the scaler passes through)."""
    return GradScaler(device.type, enabled=device_amp_dtype(device) == torch.float16)
