from __future__ import annotations

from core.errors import ApplicationError
from explainers.nn.checkpoints import CheckpointError
from explainers.services import RenderError, error_text


def test_a_render_error_is_an_application_error_a_job_records_as_said() -> None:
    raised = RenderError("render job 3 has no questions q9")

    assert isinstance(raised, ApplicationError) and raised.status == 400
    assert error_text(raised) == "render job 3 has no questions q9"


def test_a_checkpoint_error_stays_outside_the_base_but_still_speaks_for_itself() -> None:
    raised = CheckpointError("c.pt: file not found")

    assert not isinstance(raised, ApplicationError)
    assert error_text(raised) == "c.pt: file not found"
    assert error_text(KeyError("x")) == "KeyError: 'x'"
