from __future__ import annotations

import pytest
import torch

from explainers.nn.checkpoints import CheckpointError
from explainers.nn.classifier import ClassifierConfig, classifier_save
from explainers.nn.decoder import Decoder, DecoderConfig, decoder_load, decoder_save
from tests.explainers.nn.builders import NARROW, tiny_classifier, tiny_decoder


def parameter_count(decoder: Decoder) -> int:
    return sum(parameter.numel() for parameter in decoder.parameters())


def test_the_default_decoder_has_the_papers_24_154_819_parameters() -> None:
    assert parameter_count(Decoder(DecoderConfig())) == 24_154_819


def test_with_2x2_transposed_kernels_it_has_the_authors_16_741_059_parameters() -> None:
    assert parameter_count(Decoder(DecoderConfig(transposed_kernel=2))) == 16_741_059


@pytest.mark.parametrize("kernel", [2, 3])
def test_it_maps_resnet50_features_at_224_to_an_image_of_224(kernel: int) -> None:
    decoder = Decoder(DecoderConfig(widths=NARROW, transposed_kernel=kernel)).eval()

    with torch.inference_mode():
        y = decoder(torch.randn(2, 2048, 7, 7))

    assert y.shape == (2, 3, 224, 224)
    assert y.min() >= 0 and y.max() <= 1


def test_it_follows_the_classifier_it_inverts() -> None:
    resnet18 = tiny_classifier()

    assert DecoderConfig.for_classifier(resnet18).in_channels == 512
    assert DecoderConfig.for_classifier(ClassifierConfig(arch="resnet34")).in_channels == 512
    assert DecoderConfig.for_classifier(ClassifierConfig(arch="resnet101")).in_channels == 2048
    assert DecoderConfig.for_classifier(resnet18, transposed_kernel=2).transposed_kernel == 2


def test_an_encoder_of_stride_16_gets_four_stages() -> None:
    decoder = Decoder(DecoderConfig(in_channels=8, widths=(8, 8, 8, 8), convs=(1, 1, 1, 1), input_stride=16))

    with torch.inference_mode():
        assert decoder.eval()(torch.randn(1, 8, 3, 5)).shape == (1, 3, 48, 80)


def test_a_config_needs_one_width_per_stage() -> None:
    with pytest.raises(ValueError, match="input_stride 32 means 5 stages"):
        DecoderConfig(widths=(64, 32), convs=(1, 1))


def test_a_checkpoint_rebuilds_the_same_decoder(tmp_path) -> None:
    decoder = tiny_decoder(tiny_classifier())
    with torch.no_grad():
        decoder.stages[0][1].running_mean.add_(0.5)  # buffers travel too
    decoder_save(decoder, tmp_path / "decoder.pt", epoch=3)
    z = torch.randn(1, 512, 2, 2)

    loaded = decoder_load(tmp_path / "decoder.pt")

    assert loaded.config == decoder.config
    assert not loaded.training
    with torch.inference_mode():
        torch.testing.assert_close(loaded(z), decoder(z))


def test_a_classifier_checkpoint_is_not_a_decoder(tmp_path) -> None:
    classifier_save(tiny_classifier(), tmp_path / "classifier.pt")

    with pytest.raises(
        CheckpointError, match=r"classifier.pt: holds a 'classifier' checkpoint, expected a 'decoder'"
    ):
        decoder_load(tmp_path / "classifier.pt")


def test_a_missing_decoder_file_is_named_in_the_error(tmp_path) -> None:
    with pytest.raises(CheckpointError, match=r"gone\.pt: file not found \(expected a PyTorch checkpoint"):
        decoder_load(tmp_path / "gone.pt")


def test_a_corrupt_decoder_file_is_named_in_the_error(tmp_path) -> None:
    (tmp_path / "broken.pt").write_bytes(b"not a zip archive at all")

    with pytest.raises(CheckpointError, match=r"broken\.pt: not a readable PyTorch weights file"):
        decoder_load(tmp_path / "broken.pt")
