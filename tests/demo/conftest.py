from __future__ import annotations

from tests.explainers.conftest import _one_torch_thread  # noqa: F401  (the demo trains networks)
