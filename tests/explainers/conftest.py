from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from tests.explainers.helpers import TinyWorld, tiny_world


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """The suite runs as two workers on two cores; more intra-op threads would only wait on each other."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> TinyWorld:
    """The tiny world of synthetic VOC and random networks, built once per test process."""
    return tiny_world(tmp_path_factory.getbasetemp() / "tiny-world")


@pytest.fixture
def render_queue() -> None:
    """An empty queue: messages left by an earlier session would name ids this database reuses."""
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("render")
