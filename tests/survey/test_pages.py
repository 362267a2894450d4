"""The participant's pages, as a browser without JavaScript sees them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from survey import views
from survey.models import CANT_TELL, Answer, ConditionExample, Participant, Study
from survey.selectors.participants import participant_next_question
from survey.services import journeys
from survey.services.participants import external_id_hash
from tests.factories import image_file, make_study
from tests.survey.helpers_core import answer_all, answer_current, last_seen_minutes_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study()
    study.description = "We study how people read explanations of an image classifier."
    study.save()
    return study


def url(name: str, participant: Participant) -> str:
    return reverse(f"survey:{name}", kwargs={"slug": participant.study.slug, "token": participant.token})


def begin(client: Client, study: Study, query: str = "") -> Participant:
    """Give consent on the landing page and return the participant it started."""
    response = client.post(reverse("survey:landing", kwargs={"slug": study.slug}) + query, {"consent": "on"})
    assert response.status_code == 302
    return Participant.objects.get(token=response.url.split("/p/")[1].split("/")[0])


def past_intro(client: Client, study: Study) -> Participant:
    participant = begin(client, study)
    client.post(url("intro", participant))
    return participant


def shown_question_id(response) -> int:
    return int(re.search(r'name="question" value="(\d+)"', response.content.decode()).group(1))


def test_the_landing_page_describes_the_study_and_asks_for_consent(study) -> None:
    response = Client().get("/s/pv-vs-gradcam/")

    assert response.status_code == 200
    assert "We study how people read explanations" in response.content.decode()
    assert 'type="checkbox" name="consent"' in response.content.decode()
    assert "Start the study" in response.content.decode()


def test_starting_without_consent_shows_an_error_and_starts_nobody(study) -> None:
    response = Client().post("/s/pv-vs-gradcam/", {})

    assert response.status_code == 400
    assert "Please tick the consent box to take part." in response.content.decode()
    assert not Participant.objects.exists()


def test_consent_starts_a_participant_and_leads_to_the_intro(study) -> None:
    client = Client()

    response = client.post("/s/pv-vs-gradcam/", {"consent": "on"})

    participant = Participant.objects.get()
    assert response.url == f"/s/pv-vs-gradcam/p/{participant.token}/intro/"
    assert client.session["survey:participant:pv-vs-gradcam"] == participant.token


def test_prolific_ids_from_the_link_are_stored_hashed(study) -> None:
    client = Client()
    client.get("/s/pv-vs-gradcam/?PROLIFIC_PID=abc123&STUDY_ID=s1")

    client.post("/s/pv-vs-gradcam/", {"consent": "on"})

    participant = Participant.objects.get()
    assert participant.prolific_pid_hash == external_id_hash(study=study, value="abc123")
    assert participant.study_id_hash == external_id_hash(study=study, value="s1")
    assert participant.session_id_hash == ""
    assert "abc123" not in str(Participant.objects.values().get())


def test_the_link_ids_leave_the_address_bar_and_are_kept_only_hashed(study) -> None:
    client = Client()

    response = client.get("/s/pv-vs-gradcam/?PROLIFIC_PID=abc123&STUDY_ID=s1&SESSION_ID=x9&lang=en")

    assert response.status_code == 302
    assert response.url == "/s/pv-vs-gradcam/?lang=en"
    stored = str(dict(client.session))
    assert "abc123" not in stored and external_id_hash(study=study, value="abc123") in stored
    page = client.get(response.url)
    assert page.status_code == 200 and "abc123" not in page.content.decode()


def test_a_link_with_an_overlong_id_is_refused_with_a_clear_page(study) -> None:
    response = Client().get(f"/s/pv-vs-gradcam/?PROLIFIC_PID={'x' * 201}")

    assert response.status_code == 400
    assert "This study link is not valid" in response.content.decode()


def test_another_person_on_the_same_browser_starts_afresh(study) -> None:
    client = Client()
    client.get("/s/pv-vs-gradcam/?PROLIFIC_PID=ada")
    ada = begin(client, study)

    client.get("/s/pv-vs-gradcam/?PROLIFIC_PID=bob")
    landing = client.get("/s/pv-vs-gradcam/")
    bob = begin(client, study)

    assert landing.status_code == 200 and "Start the study" in landing.content.decode()
    assert bob.pk != ada.pk
    assert bob.prolific_pid_hash == external_id_hash(study=study, value="bob")
    assert client.get("/s/pv-vs-gradcam/").url == url("resume", bob)


def test_the_same_person_coming_back_through_their_link_resumes(study) -> None:
    client = Client()
    client.get("/s/pv-vs-gradcam/?PROLIFIC_PID=ada&SESSION_ID=s1")
    ada = begin(client, study)

    client.get("/s/pv-vs-gradcam/?PROLIFIC_PID=ada&SESSION_ID=s1")
    response = client.get("/s/pv-vs-gradcam/")

    assert response.url == url("resume", ada)
    assert Participant.objects.count() == 1


def test_coming_back_to_the_landing_page_resumes_the_same_participant(study) -> None:
    client = Client()
    ada = begin(client, study)

    response = client.get("/s/pv-vs-gradcam/")

    assert response.url == url("resume", ada)
    assert client.get(response.url).url == url("intro", ada)
    assert Participant.objects.count() == 1


def test_a_participant_who_opens_their_own_link_in_another_browser_is_remembered_there(study) -> None:
    ada = begin(Client(), study)
    other = Client()

    other.get(url("resume", ada))
    response = other.get("/s/pv-vs-gradcam/")

    assert response.url == url("resume", ada)
    assert Participant.objects.count() == 1


def test_the_intro_explains_the_condition_and_shows_its_examples(study) -> None:
    client = Client()
    ada = begin(client, study)
    ConditionExample.objects.create(
        condition=ada.condition, image=image_file("ex.png"), caption="A cat, seen"
    )

    response = client.get(url("intro", ada))

    page = response.content.decode()
    assert f"How {ada.condition.key} works." in page
    assert "A cat, seen" in page and "/media/studies/examples/" in page
    assert ada.intro_seen_at is None


def test_continuing_from_the_intro_records_it_and_opens_the_first_question(study) -> None:
    client = Client()
    ada = begin(client, study)

    response = client.post(url("intro", ada))

    ada.refresh_from_db()
    assert ada.intro_seen_at is not None
    assert response.url == url("question", ada)


def test_questions_wait_until_the_intro_was_read(study) -> None:
    client = Client()
    ada = begin(client, study)

    assert client.get(url("question", ada)).url == url("intro", ada)


def test_the_question_page_shows_both_images_the_question_five_options_and_progress(study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.get(url("question", ada))

    page = response.content.decode()
    upcoming = participant_next_question(ada)
    assert "Question 1 of 30" in page
    assert "<legend>What is the model's prediction?</legend>" in page
    assert page.count('type="radio" name="option"') == 5
    labels = re.findall(r'<label for="option-\d">([^<]+)</label>', page)
    assert labels == [label.replace("'", "&#x27;") for _, label in upcoming.options]
    assert labels[-1] == "I just can&#x27;t tell"
    assert upcoming.question.image.url in page and upcoming.explanation.image.url in page
    assert 'width="224" height="224"' in page
    assert "no-store" in response["Cache-Control"]


def test_the_first_showing_starts_the_clock_and_a_reload_keeps_it(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    client.get(url("question", ada))
    ada.refresh_from_db()
    first_shown = ada.current_shown_at

    reload = client.get(url("question", ada))

    ada.refresh_from_db()
    assert first_shown is not None and ada.current_shown_at == first_shown
    assert shown_question_id(reload) == ada.question_order[0]


def test_answering_moves_on_and_the_progress_follows(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    first = shown_question_id(client.get(url("question", ada)))

    response = client.post(url("question", ada), {"question": first, "option": CANT_TELL}, follow=True)

    assert "Question 2 of 30" in response.content.decode()
    assert shown_question_id(response) == ada.question_order[1]
    assert Answer.objects.get().option == CANT_TELL


def test_a_reload_resumes_at_the_current_question(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    for _ in range(4):
        answer_current(ada)

    response = Client().get(url("resume", ada), follow=True)  # another browser, with the link only

    assert "Question 5 of 30" in response.content.decode()
    assert shown_question_id(response) == ada.question_order[4]


def test_submitting_without_choosing_shows_an_error_and_stores_nothing(study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.post(url("question", ada), {"question": ada.question_order[0]})

    assert response.status_code == 400
    assert "Please choose one of the options before going on." in response.content.decode()
    assert not Answer.objects.exists()


def test_a_double_submit_stores_one_answer_and_goes_on(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    payload = {"question": ada.question_order[0], "option": CANT_TELL}
    client.post(url("question", ada), payload)

    again = client.post(url("question", ada), payload, follow=True)

    assert Answer.objects.count() == 1
    assert "Question 2 of 30" in again.content.decode()
    assert not list(again.context["messages"])


def test_the_back_button_cannot_change_a_stored_answer(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    first = ada.question_order[0]
    client.post(url("question", ada), {"question": first, "option": CANT_TELL})
    another_option = Answer.objects.get().option_order[0]

    # The page the back button shows still holds the first question's form: send it again, changed.
    response = client.post(url("question", ada), {"question": first, "option": another_option}, follow=True)

    assert "answers cannot be changed" in response.content.decode()
    assert "Question 2 of 30" in response.content.decode()
    assert Answer.objects.get().option == CANT_TELL


def test_an_answer_to_another_question_is_refused_with_a_message(study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.post(
        url("question", ada), {"question": ada.question_order[7], "option": CANT_TELL}, follow=True
    )

    assert "is not your current question; question 1 of 30 is." in response.content.decode()
    assert shown_question_id(response) == ada.question_order[0]
    assert not Answer.objects.exists()


@pytest.mark.parametrize("question", [0, -1, 2**63, 10**30])
def test_a_question_id_out_of_range_is_refused(study, question: int) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.post(url("question", ada), {"question": question, "option": CANT_TELL})

    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_an_option_the_question_does_not_offer_is_refused(study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.post(url("question", ada), {"question": ada.question_order[0], "option": "unicorn"})

    assert response.status_code == 400
    assert "&#x27;unicorn&#x27; is not one of the options" in response.content.decode()
    assert not Answer.objects.exists()


def test_the_last_answer_leads_to_the_completion_code(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    for _ in range(29):
        answer_current(ada)
    last = participant_next_question(ada)
    assert "Finish" in client.get(url("question", ada)).content.decode()

    response = client.post(
        url("question", ada), {"question": last.question.pk, "option": CANT_TELL}, follow=True
    )

    assert response.redirect_chain[-1][0] == url("done", ada)
    assert '<code id="completion-code">C0MPL3TE</code>' in response.content.decode()


def test_a_finished_participant_is_sent_to_the_completion_page(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    answer_all(ada)

    assert client.get(url("question", ada)).url == url("done", ada)
    assert client.get(url("intro", ada)).url == url("done", ada)


def test_completion_redirects_to_prolific_when_the_study_says_so(study) -> None:
    study.completion_redirect_url = "https://app.prolific.com/submissions/complete?cc=C0MPL3TE"
    study.save()
    client = Client()
    ada = past_intro(client, study)
    answer_all(ada)

    response = client.get(url("done", ada))

    assert response.status_code == 302
    assert response.url == "https://app.prolific.com/submissions/complete?cc=C0MPL3TE"


def test_the_completion_page_is_not_shown_before_the_end(study) -> None:
    client = Client()
    ada = past_intro(client, study)

    assert client.get(url("done", ada)).url == url("question", ada)


def test_an_unknown_study_shows_a_not_found_page(study) -> None:
    response = Client().get("/s/no-such-study/")

    assert response.status_code == 404
    assert "Study not found" in response.content.decode()


@pytest.mark.parametrize(
    ("status", "title"), [(Study.Status.CLOSED, "Study closed"), (Study.Status.DRAFT, "Not open yet")]
)
def test_a_study_that_is_not_open_shows_a_clear_page(status: str, title: str) -> None:
    make_study(status=status)

    response = Client().get("/s/pv-vs-gradcam/")
    refused = Client().post("/s/pv-vs-gradcam/", {"consent": "on"})

    assert response.status_code == 404 and title in response.content.decode()
    assert refused.status_code == 404 and not Participant.objects.exists()


def test_a_study_closing_while_someone_consents_shows_the_refusal_with_its_status(study, monkeypatch) -> None:
    Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)
    # The landing page still holds the study as it read it, open, a moment before it closed.
    monkeypatch.setattr(views, "study_by_slug", lambda *, slug: study)

    response = Client().post("/s/pv-vs-gradcam/", {"consent": "on"})

    assert response.status_code == 409
    assert "Study not available" in response.content.decode()
    assert "This study is closed." in response.content.decode()
    assert not Participant.objects.exists()


def test_a_participant_may_finish_after_the_study_closed(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)

    response = client.post(url("question", ada), {"question": ada.question_order[0], "option": CANT_TELL})

    assert response.url == url("question", ada)
    assert Answer.objects.count() == 1


def test_an_unknown_token_shows_a_not_found_page(study) -> None:
    response = Client().get("/s/pv-vs-gradcam/p/NoSuchToken_0123456789abcdefXYZ-/question/")

    assert response.status_code == 404
    assert "This survey link is not valid" in response.content.decode()


@pytest.mark.parametrize("token", ["ab%00cd", "ab%00cdefghijklmnopqrstuvwxyz", "not-a-token"])
def test_a_token_that_cannot_be_one_is_not_found(study, token: str) -> None:
    assert Client().get(f"/s/pv-vs-gradcam/p/{token}/").status_code == 404
    assert Client().post(f"/s/pv-vs-gradcam/p/{token}/question/", {"option": CANT_TELL}).status_code == 404


def test_leaving_asks_first_then_keeps_the_answers(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    answer_current(ada)

    confirm = client.get(url("leave", ada))
    left = client.post(url("leave", ada))

    assert "You have answered 1 of 30 questions." in confirm.content.decode()
    assert "You have left the study" in left.content.decode()
    ada.refresh_from_db()
    assert ada.status == Participant.Status.ABANDONED
    assert Answer.objects.filter(participant=ada).count() == 1


def test_leaving_after_finishing_in_another_tab_shows_the_completion(study, monkeypatch) -> None:
    client = Client()
    ada = past_intro(client, study)
    leave = journeys.participant_leave

    def finished_meanwhile(*, participant: Participant) -> None:
        answer_all(participant)  # the other tab's last answer lands between the page's check and its leave
        leave(participant=participant)

    monkeypatch.setattr(journeys, "participant_leave", finished_meanwhile)

    response = client.post(url("leave", ada))

    assert response.url == url("done", ada)
    ada.refresh_from_db()
    assert ada.status == Participant.Status.COMPLETED


def test_a_participant_who_left_and_comes_back_sees_a_clear_page(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    client.post(url("leave", ada))

    response = client.get(url("question", ada))
    refused = client.post(url("question", ada), {"question": ada.question_order[0], "option": CANT_TELL})

    assert "This session has ended" in response.content.decode()
    assert "This session has ended" in refused.content.decode()
    assert not Answer.objects.exists()


def test_a_participant_away_too_long_sees_the_ended_page_and_is_marked_abandoned(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    last_seen_minutes_ago(ada, 24 * 60)

    response = client.get(url("question", ada))

    assert "This session has ended" in response.content.decode()
    ada.refresh_from_db()
    assert ada.status == Participant.Status.ABANDONED


def test_every_page_visit_records_when_the_participant_was_seen(study) -> None:
    client = Client()
    ada = past_intro(client, study)
    last_seen_minutes_ago(ada, 5)
    before = ada.last_seen_at

    client.get(url("question", ada))

    ada.refresh_from_db()
    assert ada.last_seen_at > before


def test_starting_again_in_the_same_browser_resumes_instead_of_starting_twice(study) -> None:
    client = Client()
    ada = begin(client, study)

    response = client.post("/s/pv-vs-gradcam/", {"consent": "on"})

    assert response.url == url("resume", ada)
    assert Participant.objects.count() == 1
