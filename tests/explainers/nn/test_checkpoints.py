from __future__ import annotations

import pytest
import torch

from explainers.nn.checkpoints import (
    CheckpointError,
    checkpoint_load,
    checkpoint_resume_load,
    checkpoint_save,
    inference_export,
)
from explainers.nn.decoder import Decoder, DecoderConfig, decoder_load, decoder_save
from explainers.nn.files import file_sha256
from explainers.nn.training.run import epoch_resume


def test_a_checkpoint_keeps_its_kind_config_weights_and_extras(tmp_path) -> None:
    checkpoint_save(
        tmp_path / "c.pt", kind="decoder", config={"a": (1, 2)}, state_dict={"w": torch.ones(2)}, epoch=7
    )

    payload = checkpoint_load(tmp_path / "c.pt", kind="decoder")

    assert payload["config"] == {"a": (1, 2)}
    assert torch.equal(payload["state_dict"]["w"], torch.ones(2))
    assert payload["epoch"] == 7
    assert [path.name for path in tmp_path.iterdir()] == ["c.pt"]  # no partial file left behind


def test_an_unknown_kind_cannot_be_saved(tmp_path) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        checkpoint_save(tmp_path / "c.pt", kind="optimizer", config={}, state_dict={})


def test_checkpoint_error_is_a_value_error() -> None:
    assert issubclass(CheckpointError, ValueError)


def test_a_file_that_needs_arbitrary_code_to_load_is_refused(tmp_path) -> None:
    torch.save({"kind": "decoder", "config": {}, "state_dict": {}, "extra": object()}, tmp_path / "c.pt")

    with pytest.raises(CheckpointError, match=r"c.pt: not a readable PyTorch weights file"):
        checkpoint_load(tmp_path / "c.pt", kind="decoder")


def training_checkpoint(path) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """A decoder after one Adam step, saved as training saves it: with the optimiser's state."""
    torch.manual_seed(0)
    decoder = Decoder(DecoderConfig(in_channels=8, widths=(4, 4), convs=(1, 1), input_stride=4))
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    decoder(torch.rand(1, 8, 2, 2)).mean().backward()
    optimizer.step()
    decoder_save(decoder, path, epoch=3, metrics={"mse": 0.1}, optimizer=optimizer.state_dict())
    return decoder.eval(), optimizer


def test_an_inference_checkpoint_keeps_the_network_and_drops_the_optimiser_state(tmp_path) -> None:
    decoder, _ = training_checkpoint(tmp_path / "training.pt")

    inference_export(tmp_path / "training.pt", tmp_path / "inference.pt", kind="decoder")

    payload = checkpoint_load(tmp_path / "inference.pt", kind="decoder")
    assert "optimizer" not in payload
    assert (payload["inference"], payload["epoch"], payload["metrics"]) == (True, 3, {"mse": 0.1})
    assert payload["exported_from"] == {
        "name": "training.pt",
        "sha256": file_sha256(tmp_path / "training.pt"),
    }
    z = torch.rand(2, 8, 2, 2)
    torch.testing.assert_close(decoder_load(tmp_path / "inference.pt")(z), decoder(z), rtol=0, atol=0)
    assert (tmp_path / "inference.pt").stat().st_size < (tmp_path / "training.pt").stat().st_size / 2


def test_an_inference_checkpoint_refuses_to_resume_training(tmp_path) -> None:
    _, optimizer = training_checkpoint(tmp_path / "training.pt")
    inference_export(tmp_path / "training.pt", tmp_path / "inference.pt", kind="decoder")

    with pytest.raises(CheckpointError, match=r"inference\.pt: an inference checkpoint .* cannot resume"):
        checkpoint_resume_load(tmp_path / "inference.pt", kind="decoder")
    with pytest.raises(CheckpointError, match="cannot resume training"):
        epoch_resume(optimizer, checkpoint_load(tmp_path / "inference.pt", kind="decoder"))
    assert checkpoint_resume_load(tmp_path / "training.pt", kind="decoder")["epoch"] == 3


def test_an_export_never_writes_over_its_training_checkpoint(tmp_path) -> None:
    training_checkpoint(tmp_path / "training.pt")
    before = (tmp_path / "training.pt").read_bytes()

    with pytest.raises(CheckpointError, match="export to a new file"):
        inference_export(tmp_path / "training.pt", tmp_path / "training.pt", kind="decoder")

    assert (tmp_path / "training.pt").read_bytes() == before
