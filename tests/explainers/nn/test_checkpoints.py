from __future__ import annotations

import pytest
import torch

from explainers.nn.checkpoints import CheckpointError, checkpoint_load, checkpoint_save


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
