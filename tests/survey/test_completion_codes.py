"""Per-participant completion codes: unique, shown to each participant, and found again in the admin."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from survey.models import Participant, Study
from survey.selectors.participants import participant_completion_code
from survey.services.participants import CODE_ALPHABET, CODE_LENGTH
from survey.services.studies import study_readiness_problems
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, answer_current, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study(n_correct=2, n_wrong=1, completion_code="")
    study.unique_completion_codes = True
    study.save()
    return study


def test_each_participant_gets_a_code_of_their_own_on_completion(study: Study) -> None:
    participants = [start(study) for _ in range(20)]
    for participant in participants:
        answer_all(participant)

    codes = [participant_completion_code(Participant.objects.get(pk=p.pk)) for p in participants]

    assert len(set(codes)) == 20
    assert all(len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET) for code in codes)


def test_no_code_is_given_before_completion(study: Study) -> None:
    ada = start(study)
    answer_current(ada)

    ada.refresh_from_db()
    assert ada.completion_code == ""


def test_the_database_refuses_a_code_given_twice(study: Study) -> None:
    ada, bob = start(study), start(study)
    answer_all(ada)
    code = Participant.objects.get(pk=ada.pk).completion_code

    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=bob.pk).update(completion_code=code)


def test_the_done_page_and_the_api_show_the_participants_own_code(study: Study) -> None:
    study.completion_redirect_url = "https://app.prolific.com/submissions/complete?cc=SHARED"
    study.save()
    client = Client()
    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})
    ada = Participant.objects.get()
    answer_all(ada)
    code = Participant.objects.get().completion_code

    page = client.get(reverse("survey:done", kwargs={"slug": study.slug, "token": ada.token}))
    api = client.get(f"/api/participants/{ada.token}/next/").json()

    # A unique code must be seen to be copied: the page shows it, with the way back to Prolific.
    assert page.status_code == 200
    assert f'<code id="completion-code">{code}</code>' in page.content.decode()
    assert study.completion_redirect_url in page.content.decode()
    assert api["completion_code"] == code


def test_a_study_with_unique_codes_needs_no_shared_code_to_open(study: Study) -> None:
    assert study_readiness_problems(study=study) == []


def test_the_admin_finds_a_participant_by_the_code_pasted_on_prolific(
    study: Study, admin_client: Client
) -> None:
    ada, bob = start(study), start(study)
    answer_all(ada)
    answer_all(bob)
    code = Participant.objects.get(pk=ada.pk).completion_code

    page = admin_client.get(reverse("admin:survey_participant_changelist"), {"q": code}).content.decode()

    assert code in page and "1 result" in page
