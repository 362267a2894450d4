"""The researcher's admin, driven through pytest-django's `admin_client` (a logged-in superuser)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from survey.models import Answer, Condition, Explanation, Participant, Question, Study
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def _participant(
    study: Study, key: str, *, status: str = Participant.Status.IN_PROGRESS, idle: int = 0
) -> Participant:
    questions = list(study.questions.all())
    participant = Participant.objects.create(
        study=study,
        condition=study.conditions.get(key=key),
        seed=7,
        status=status,
        question_order=[q.pk for q in questions],
    )
    Participant.objects.filter(pk=participant.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=idle)
    )
    return participant


def _answer(participant: Participant, position: int, option: str | None = None) -> Answer:
    question = Question.objects.get(pk=participant.question_order[position - 1])
    now = timezone.now()
    return Answer.objects.create(
        participant=participant,
        question=question,
        option=option or question.prediction,
        position=position,
        option_order=[*question.options, "cant_tell"],
        shown_at=now - timedelta(seconds=3),
        answered_at=now,
        response_ms=3000,
    )


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _study_form(study: Study, **changes: object) -> dict[str, object]:
    """What the study change form posts, conditions inline included."""
    conditions = list(study.conditions.all())
    data: dict[str, object] = {
        "name": study.name,
        "slug": study.slug,
        "status": study.status,
        "description": study.description,
        "completion_code": study.completion_code,
        "completion_redirect_url": "",
        "assignment_policy": study.assignment_policy,
        "classes": '["' + '", "'.join(study.classes) + '"]',
        "abandon_after_minutes": "",
        "conditions-TOTAL_FORMS": len(conditions),
        "conditions-INITIAL_FORMS": len(conditions),
    }
    for i, c in enumerate(conditions):
        row = {
            "id": c.pk,
            "study": study.pk,
            "order": c.order,
            "key": c.key,
            "name": c.name,
            "intro": c.intro,
        }
        data.update({f"conditions-{i}-{field}": value for field, value in row.items()})
    return {**data, **changes}


# Studies


def test_the_study_list_counts_participants_per_condition(admin_client: Client) -> None:
    study = make_study(n_correct=2, n_wrong=1)
    _participant(study, "gradcam", status=Participant.Status.COMPLETED)
    _participant(study, "gradcam", idle=600)  # gone quiet: abandoned
    _participant(study, "pv")

    response = admin_client.get(reverse("admin:survey_study_changelist"))

    assert response.status_code == 200
    assert "gradcam: 2 / 1 / 1" in response.text
    assert "pv: 1 / 0 / 0" in response.text


def test_the_study_page_shows_a_table_of_participants_and_links_to_results(admin_client: Client) -> None:
    study = make_study(n_correct=2, n_wrong=1)
    _participant(study, "pv", status=Participant.Status.ABANDONED)

    response = admin_client.get(reverse("admin:survey_study_change", args=[study.pk]))

    assert response.status_code == 200
    assert "<tr><td>pv</td><td>1</td><td>0</td><td>1</td><td>0</td></tr>" in response.text
    assert "<tr><td>gradcam</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>" in response.text
    assert reverse("analysis-study-results", kwargs={"slug": study.slug}) in response.text


def test_the_open_action_refuses_an_incomplete_study_and_says_what_is_missing(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=2, n_wrong=1)
    Explanation.objects.get(question__key="q001", condition__key="pv").delete()

    response = admin_client.post(
        reverse("admin:survey_study_changelist"),
        {"action": "open_studies", "_selected_action": [study.pk]},
        follow=True,
    )

    assert any("question q001 has no explanation for condition pv" in m for m in _messages(response))
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT


def test_the_open_and_close_actions_open_and_close_a_complete_study(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)
    url = reverse("admin:survey_study_changelist")

    admin_client.post(url, {"action": "open_studies", "_selected_action": [study.pk]})
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN

    admin_client.post(url, {"action": "close_studies", "_selected_action": [study.pk]})
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED


def test_the_study_form_will_not_save_open_unless_the_study_is_ready(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)
    Explanation.objects.get(question__key="q000", condition__key="gradcam").delete()
    url = reverse("admin:survey_study_change", args=[study.pk])

    response = admin_client.post(url, _study_form(study, status=Study.Status.OPEN, name="Renamed"))

    assert response.status_code == 200  # the form again, with its error
    assert (
        "The study cannot open yet: question q000 has no explanation for condition gradcam." in response.text
    )
    study.refresh_from_db()
    assert (study.status, study.name) == (Study.Status.DRAFT, "Study pv-vs-gradcam")


def test_the_study_form_saves_open_when_the_study_is_ready(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)

    response = admin_client.post(
        reverse("admin:survey_study_change", args=[study.pk]), _study_form(study, status=Study.Status.OPEN)
    )

    assert response.status_code == 302
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN


def _with_new_condition(data: dict[str, object], key: str) -> dict[str, object]:
    """The study form with one more condition row, as the admin's "Add another" posts it."""
    i = int(data["conditions-TOTAL_FORMS"])
    row = {"order": i, "key": key, "name": key.upper(), "intro": ""}
    data.update({f"conditions-{i}-{field}": value for field, value in row.items()})
    return {**data, "conditions-TOTAL_FORMS": i + 1}


def test_a_condition_added_in_the_save_that_opens_the_study_keeps_it_a_draft(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)
    data = _with_new_condition(_study_form(study, status=Study.Status.OPEN), "lime")

    response = admin_client.post(reverse("admin:survey_study_change", args=[study.pk]), data, follow=True)

    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT
    assert study.conditions.filter(key="lime").exists()  # the edit is kept; only the opening is refused
    assert any(
        "pv-vs-gradcam was saved but stays draft: it cannot open yet: "
        "question q000 has no explanation for condition lime" in m
        for m in _messages(response)
    )


def test_an_open_study_cannot_lose_its_completion_code(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)

    response = admin_client.post(
        reverse("admin:survey_study_change", args=[study.pk]), _study_form(study, completion_code="")
    )

    assert response.status_code == 200
    assert "The study cannot open yet: the study needs a completion code or a completion redirect URL." in (
        response.text
    )
    study.refresh_from_db()
    assert study.completion_code == "C0MPL3TE"


def test_an_open_study_nobody_started_keeps_its_structure(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    condition = study.conditions.get(key="pv")
    question = study.questions.first()
    data = _with_new_condition(_study_form(study), "lime")
    data["conditions-1-key"] = "perception"
    data["conditions-1-DELETE"] = "on"

    response = admin_client.post(reverse("admin:survey_study_change", args=[study.pk]), data)

    assert response.status_code == 302
    assert list(study.conditions.values_list("key", flat=True)) == ["gradcam", "pv"]
    question_page = reverse("admin:survey_question_change", args=[question.pk])
    assert admin_client.post(question_page, {"prediction": "cat"}).status_code == 403
    assert admin_client.post(reverse("admin:survey_question_delete", args=[question.pk])).status_code == 403
    condition_page = reverse("admin:survey_condition_change", args=[condition.pk])
    assert admin_client.post(condition_page, {"key": "lime"}).status_code == 403
    assert admin_client.post(reverse("admin:survey_condition_delete", args=[condition.pk])).status_code == 403
    assert Explanation.objects.filter(question__study=study).count() == 4


@pytest.mark.parametrize("status", [Study.Status.OPEN, Study.Status.CLOSED])
def test_studies_that_are_not_drafts_are_not_offered_for_new_conditions_or_questions(
    admin_client: Client, status: str
) -> None:
    make_study(slug="taken", status=status, n_correct=1, n_wrong=0)
    draft = make_study(slug="drafted", status=Study.Status.DRAFT, n_correct=1, n_wrong=0)

    for page in ["admin:survey_condition_add", "admin:survey_question_add"]:
        form = admin_client.get(reverse(page)).context["adminform"].form
        assert list(form.fields["study"].queryset) == [draft]


def test_a_draft_nobody_started_can_have_its_conditions_edited(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)
    data = _with_new_condition(_study_form(study), "lime")
    data["conditions-1-key"] = "perception"

    response = admin_client.post(reverse("admin:survey_study_change", args=[study.pk]), data)

    assert response.status_code == 302
    assert list(study.conditions.values_list("key", flat=True)) == ["gradcam", "perception", "lime"]


def test_a_study_with_participants_cannot_be_deleted(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    _participant(study, "pv")
    url = reverse("admin:survey_study_delete", args=[study.pk])

    page = admin_client.get(url)
    admin_client.post(url, {"post": "yes"})

    assert (
        "pv-vs-gradcam has 1 participants, whose answers would be lost. Close the study instead." in page.text
    )
    assert Study.objects.filter(pk=study.pk).exists()


def test_a_started_study_keeps_its_conditions_as_they_are(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    _participant(study, "pv")
    data = _study_form(study, name="Renamed")
    data["conditions-1-key"] = "perception"

    response = admin_client.post(reverse("admin:survey_study_change", args=[study.pk]), data)

    assert response.status_code == 302
    assert list(study.conditions.values_list("key", flat=True)) == ["gradcam", "pv"]
    assert Study.objects.get(pk=study.pk).name == "Renamed"


# Questions


def test_the_question_list_previews_the_input_and_every_explanation(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=0)
    question = study.questions.get()
    Explanation.objects.get(condition__key="pv").delete()

    response = admin_client.get(reverse("admin:survey_question_changelist"))

    assert response.status_code == 200
    assert f'<img src="{question.image.url}" alt="input q000" style="max-height:80px' in response.text
    gradcam = question.explanations.get().image
    assert f'<img src="{gradcam.url}" alt="gradcam q000"' in response.text
    assert "missing</strong><figcaption>pv</figcaption>" in response.text


def test_the_question_page_previews_its_images(admin_client: Client) -> None:
    question = make_study(n_correct=1, n_wrong=0).questions.get()

    response = admin_client.get(reverse("admin:survey_question_change", args=[question.pk]))

    assert response.status_code == 200
    for explanation in question.explanations.all():
        assert f'<img src="{explanation.image.url}"' in response.text


def test_the_question_form_refuses_repeated_options(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=0)
    question = study.questions.get()
    explanations = list(question.explanations.all())
    data = {
        "study": study.pk,
        "key": question.key,
        "order": 0,
        "labels": '["aeroplane"]',
        "prediction": "aeroplane",
        "model_correct": "on",
        "options": '["aeroplane", "bicycle", "bicycle", "bird"]',
        "explanations-TOTAL_FORMS": len(explanations),
        "explanations-INITIAL_FORMS": len(explanations),
    }
    for i, e in enumerate(explanations):
        data.update({f"explanations-{i}-id": e.pk, f"explanations-{i}-condition": e.condition_id})

    response = admin_client.post(reverse("admin:survey_question_change", args=[question.pk]), data)

    assert "question q000: option bicycle appears more than once" in response.text
    question.refresh_from_db()
    assert question.options == ["aeroplane", "bicycle", "bird", "boat"]


def test_a_started_studys_questions_are_shown_but_not_changed(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=0)
    _participant(study, "gradcam")
    url = reverse("admin:survey_question_change", args=[study.questions.get().pk])

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"prediction": "cat"}).status_code == 403


# Participants and answers


def test_the_study_list_counts_every_row_in_one_query(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    for n in range(12):
        study = make_study(slug=f"study-{n}", n_correct=1, n_wrong=0)
        _participant(study, "pv")

    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:survey_study_changelist"))

    assert response.text.count("pv: 1 / 0 / 0") == 12


def test_a_participants_page_does_not_query_once_per_answer(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    participant = _participant(make_study(), "pv")
    for position in range(1, 31):
        _answer(participant, position)

    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:survey_participant_change", args=[participant.pk]))

    assert response.status_code == 200
    assert response.text.count('alt="True"') == 30


def test_participants_are_listed_with_progress_and_filtered_by_study_condition_and_status(
    admin_client: Client,
) -> None:
    study = make_study(n_correct=2, n_wrong=1)
    other = make_study(slug="other", n_correct=1, n_wrong=0)
    quiet = _participant(study, "gradcam", idle=600)
    _answer(quiet, 1)
    busy = _participant(study, "gradcam")
    elsewhere = _participant(other, "gradcam", idle=600)
    gradcam = Condition.objects.get(study=study, key="gradcam")
    url = reverse("admin:survey_participant_changelist")

    everyone = admin_client.get(url)
    filtered = admin_client.get(
        url, {"study__id__exact": study.pk, "condition": gradcam.pk, "status": "abandoned"}
    )

    assert everyone.status_code == 200
    assert "1/3" in everyone.text
    assert "Abandoned (inactive)" in everyone.text
    assert quiet.token[:10] in filtered.text
    assert busy.token[:10] not in filtered.text
    assert elsewhere.token[:10] not in filtered.text
    assert "pv-vs-gradcam · gradcam" in filtered.text


def test_participants_can_be_found_by_token_and_viewed_but_not_changed(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    participant = _participant(study, "pv")
    _answer(participant, 1)
    change = reverse("admin:survey_participant_change", args=[participant.pk])

    found = admin_client.get(reverse("admin:survey_participant_changelist"), {"q": participant.token})
    page = admin_client.get(change)

    assert f"{participant.token[:10]}…" in found.text
    assert page.status_code == 200
    assert participant.token in page.text
    assert admin_client.post(change, {"status": "completed"}).status_code == 403
    assert admin_client.get(reverse("admin:survey_participant_add")).status_code == 403


def test_answers_can_be_viewed_but_never_added_changed_or_deleted(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    answer = _answer(_participant(study, "pv"), 1, option="cant_tell")
    change = reverse("admin:survey_answer_change", args=[answer.pk])

    listing = admin_client.get(reverse("admin:survey_answer_changelist"))

    assert listing.status_code == 200
    assert "cant_tell" in listing.text
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"option": answer.question.prediction}).status_code == 403
    assert admin_client.get(reverse("admin:survey_answer_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:survey_answer_delete", args=[answer.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    answer.refresh_from_db()
    assert answer.option == "cant_tell"
