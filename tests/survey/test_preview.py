"""A staff preview walks every page and check a participant meets, and touches nothing they are counted by."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from analysis.services import study_responses
from survey.models import CANT_TELL, Answer, ComprehensionAnswer, ExtraAnswer, Participant, Study
from survey.selectors.studies import study_condition_counts
from tests.factories import make_study
from tests.survey.helpers_checks import READING, TASK, comprehension_add, instructed_add, practice_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study(status=Study.Status.DRAFT)  # a preview needs no open study
    comprehension_add(study)
    practice_add(study, 1)
    instructed_add(study, position=2)
    return study


@pytest.fixture
def researcher(study: Study) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user("rita", is_staff=True))
    return client


def preview_url(study: Study, page: str = "", condition: str = "pv") -> str:
    kwargs = {"slug": study.slug, "condition": condition}
    return reverse(f"survey:preview-{page}" if page else "survey:preview", kwargs=kwargs)


def shown(page: str) -> tuple[int, str]:
    question = int(re.search(r'name="question" value="(\d+)"', page).group(1))
    role = "attention" if 'name="role" value="attention"' in page else "question"
    return question, role


def test_an_outsider_cannot_preview(study: Study) -> None:
    response = Client().get(preview_url(study))

    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_a_preview_walks_every_step_and_says_it_is_a_preview(study: Study, researcher: Client) -> None:
    landing = researcher.get(preview_url(study)).content.decode()
    intro = researcher.post(preview_url(study), {"consent": "on"})
    comprehension = researcher.post(researcher.get(intro.url).wsgi_request.path)  # read the intro, go on
    wrong = researcher.post(comprehension.url, {"item-1": "Name the object", "item-2": READING["answer"]})
    retry = researcher.get(wrong.url).content.decode()
    practice = researcher.post(wrong.url, {"item-1": TASK["answer"]})
    question, _ = shown(researcher.get(practice.url).content.decode())
    feedback = researcher.post(practice.url, {"question": question, "option": "cat"})

    assert "Preview" in landing and "nothing you do here is recorded" in landing
    assert intro.url == preview_url(study, "intro")
    assert comprehension.url == preview_url(study, "comprehension")
    assert "Not quite." in retry and "How pv works." in retry
    assert practice.url == preview_url(study, "practice")
    assert feedback.url == preview_url(study, "feedback")
    assert "The model predicted" in researcher.get(feedback.url).content.decode()
    page = researcher.get(preview_url(study, "question")).content.decode()
    assert "Question 1 of 31" in page and "Preview" in page


def test_a_whole_preview_leaves_every_count_the_turn_and_the_results_unchanged(
    study: Study, researcher: Client
) -> None:
    study.status = Study.Status.OPEN
    study.save()
    before = (study_condition_counts(study=study), Study.objects.get().assignment_counter)

    researcher.post(preview_url(study), {"consent": "on"})
    researcher.post(preview_url(study, "intro"))
    researcher.post(
        preview_url(study, "comprehension"), {"item-1": TASK["answer"], "item-2": READING["answer"]}
    )
    question, _ = shown(researcher.get(preview_url(study, "practice")).content.decode())
    researcher.post(preview_url(study, "practice"), {"question": question, "option": "cat"})
    for _ in range(31):
        question, role = shown(researcher.get(preview_url(study, "question")).content.decode())
        option = "dog" if role == "attention" else CANT_TELL  # the check wanted "can't tell"
        researcher.post(
            preview_url(study, "question"), {"question": question, "option": option, "role": role}
        )
    done = researcher.get(preview_url(study, "done"))

    assert "Thank you!" in done.content.decode() and "C0MPL3TE" in done.content.decode()
    assert "1 attention check answered otherwise than expected" in done.content.decode()
    assert not Participant.objects.exists()
    assert not (
        Answer.objects.exists() or ExtraAnswer.objects.exists() or ComprehensionAnswer.objects.exists()
    )
    assert (study_condition_counts(study=study), Study.objects.get().assignment_counter) == before
    assert study_responses(study=study).empty


def test_a_preview_refuses_what_a_participant_would_be_refused(study: Study, researcher: Client) -> None:
    researcher.post(preview_url(study), {"consent": "on"})
    researcher.post(preview_url(study, "intro"))
    researcher.post(
        preview_url(study, "comprehension"), {"item-1": TASK["answer"], "item-2": READING["answer"]}
    )
    question, _ = shown(researcher.get(preview_url(study, "practice")).content.decode())
    researcher.post(preview_url(study, "practice"), {"question": question, "option": "cat"})
    question, _ = shown(researcher.get(preview_url(study, "question")).content.decode())

    unknown = researcher.post(preview_url(study, "question"), {"question": question, "option": "unicorn"})
    researcher.post(preview_url(study, "question"), {"question": question, "option": CANT_TELL})
    changed = researcher.post(
        preview_url(study, "question"), {"question": question, "option": "dog"}, follow=True
    )

    assert unknown.status_code == 400 and "is not one of the options" in unknown.content.decode()
    assert "answers cannot be changed" in changed.content.decode()


def test_leaving_ends_the_preview_and_the_next_visit_begins_again(study: Study, researcher: Client) -> None:
    researcher.post(preview_url(study), {"consent": "on"})

    left = researcher.post(preview_url(study, "leave"))
    again = researcher.get(preview_url(study, "intro"))

    assert "You have left the study" in left.content.decode()
    assert again.url == preview_url(study)


def test_the_study_admin_links_a_preview_of_each_condition(study: Study, admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:survey_study_change", args=[study.pk])).content.decode()

    assert preview_url(study, condition="gradcam") in page and preview_url(study, condition="pv") in page


def test_an_unknown_condition_has_no_preview(study: Study, researcher: Client) -> None:
    assert researcher.get(preview_url(study, condition="lime")).status_code == 404


def test_a_preview_of_questions_the_study_no_longer_has_begins_again(
    study: Study, researcher: Client
) -> None:
    researcher.post(preview_url(study), {"consent": "on"})
    study.questions.first().delete()  # a draft changed meanwhile

    response = researcher.get(preview_url(study, "question"))

    assert response.url == preview_url(study)
