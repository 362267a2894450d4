from __future__ import annotations

import pytest
import torch

from explainers.nn.device import (
    BF16_PIXEL_ERROR_BOUND,
    amp_dtype,
    channels_last,
    device_pick,
    inference_autocast,
    inference_dtype,
)
from explainers.nn.perception import explain
from explainers.nn.render import frames
from tests.explainers.nn.builders import images, tiny_classifier, tiny_decoder


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


def test_inference_runs_in_bf16_only_on_a_gpu_that_has_it_unless_asked() -> None:
    cpu = torch.device("cpu")
    assert inference_dtype(cpu, "auto") is None
    assert inference_dtype(cpu, "fp32") is None
    assert inference_dtype(cpu, "bf16") is torch.bfloat16  # CPU autocast: how its error is measured here
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16, got 'fp16'"):
        inference_dtype(cpu, "fp16")


def test_a_network_in_channels_last_computes_what_it_did() -> None:
    classifier = tiny_classifier()
    x = images(2)
    before = classifier(x)

    channels_last(classifier)

    assert classifier.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(classifier(x.contiguous(memory_format=torch.channels_last)), before)


def test_bf16_changes_the_pv_and_grad_cam_pictures_by_less_than_the_stated_bound() -> None:
    classifier, x = tiny_classifier(), images(4)
    decoder = tiny_decoder(classifier)
    full = explain(classifier, decoder, x)
    with inference_autocast(torch.device("cpu"), torch.bfloat16):
        half = explain(classifier, decoder, x, full.classes)

    assert half.reconstructions.dtype == torch.float32  # PV is composed in fp32 whatever the autocast
    for picture in ("pv", "gradcam"):
        levels = (frames(getattr(half, picture)).float() - frames(getattr(full, picture)).float()).abs()
        assert 0 < levels.mean() < BF16_PIXEL_ERROR_BOUND
