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


def grad_scaler(device: torch.device) -> GradScaler:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 need none (the scaler passes through)."""
    return GradScaler(device.type, enabled=device_amp_dtype(device) == torch.float16)
