from __future__ import annotations

import pytest
import torch

from explainers.nn.device import amp_dtype, device_pick


def test_auto_picks_cuda_only_when_there_is_one() -> None:
    assert device_pick("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert device_pick("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="no usable CUDA"):
        device_pick("cuda")


def test_mixed_precision_is_bf16_where_the_gpu_has_it_else_fp16_and_off_on_the_cpu() -> None:
    assert amp_dtype(torch.device("cuda"), bf16_supported=True) is torch.bfloat16
    assert amp_dtype(torch.device("cuda"), bf16_supported=False) is torch.float16
    assert amp_dtype(torch.device("cpu"), bf16_supported=True) is None
