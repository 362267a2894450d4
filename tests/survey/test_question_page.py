"""The question page: display names, sharp images at a whole scale, one h1, preloading, the browser's time."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from survey.models import CANT_TELL, Answer, Participant, Question, Study
from survey.selectors.questions import PICTURE_BOX, picture_of
from survey.services.participants import answer_submit
from tests.factories import make_study
from tests.survey.helpers_core import current_question

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study()
    study.class_names = {
        "diningtable": "dining table",
        "tvmonitor": "TV monitor",
        "pottedplant": "potted plant",
    }
    study.save()
    return study


def url(name: str, participant: Participant) -> str:
    return reverse(f"survey:{name}", kwargs={"slug": participant.study.slug, "token": participant.token})


def past_intro(client: Client, study: Study) -> Participant:
    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})
    participant = Participant.objects.get()
    client.post(url("intro", participant))
    return participant


def test_classes_reach_participants_by_their_display_names(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    options = ["diningtable", "tvmonitor", "pottedplant", "cat"]
    first = Question.objects.get(pk=ada.question_order[0])
    first.options, first.prediction, first.labels = options, "cat", ["cat"]
    first.save()  # through save, as the admin does: the study's content in memory follows

    page = client.get(url("question", ada)).content.decode()

    labels = re.findall(r'<label for="option-\d">([^<]+)</label>', page)
    assert set(labels) == {"dining table", "TV monitor", "potted plant", "cat", "I just can&#x27;t tell"}
    assert 'value="diningtable"' in page  # the answer sends the class itself back


@pytest.mark.parametrize(
    ("size", "shown", "crisp"), [(8, 320, True), (96, 288, True), (224, 224, False), (500, 500, False)]
)
def test_images_are_shown_at_their_size_times_a_whole_number(size: int, shown: int, crisp: bool) -> None:
    question = Question(image="studies/images/x.png", image_width=size, image_height=size)

    picture = picture_of(question)

    assert (picture.width, picture.height, picture.crisp) == (shown, shown, crisp)
    assert picture.width % size == 0 and (picture.width <= PICTURE_BOX or picture.width == size)


def test_the_page_draws_the_recorded_size_sharp_and_frames_the_explanation(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    question = current_question(ada)
    question.image_width = question.image_height = 96
    question.save()

    page = client.get(url("question", ada)).content.decode()

    assert 'width="288" height="288"' in page and "shown crisp" in page
    assert '<figure class="explanation">' in page


def test_every_participant_page_has_exactly_one_h1(study: Study) -> None:
    client = Client()
    pages = [client.get(f"/s/{study.slug}/")]
    ada = past_intro(client, study)
    answer_submit(participant=ada, question_id=current_question(ada).pk, option=CANT_TELL)
    pages += [client.get(url(name, ada)) for name in ("question", "help", "leave")]
    pages.append(client.get("/s/nope/"))

    for response in pages:
        assert response.content.decode().count("<h1") == 1, response.wsgi_request.path


def test_the_choose_an_option_error_sits_by_the_button(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.post(url("question", ada), {"question": current_question(ada).pk})

    page = response.content.decode()
    assert response.status_code == 400
    error = page.index('id="option-error" role="alert"')
    assert page.rindex('type="radio"') < error < page.index("Next question")


def test_a_fresh_question_page_has_no_choice_made_and_no_error(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)

    page = client.get(url("question", ada)).content.decode()

    assert page.count('type="radio"') == 5
    assert "checked" not in page
    assert 'role="alert"' not in page and "aria-invalid" not in page


def test_a_refused_page_keeps_the_choice_the_participant_made(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    choice = current_question(ada).options[0]

    response = client.post(url("question", ada), {"question": "", "option": choice})

    page = response.content.decode()
    assert response.status_code == 400
    assert page.count("checked") == 1
    assert re.search(rf'value="{re.escape(choice)}" required\s+checked', page)


def test_the_next_questions_images_are_preloaded(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    following = Question.objects.get(pk=ada.question_order[1])

    page = client.get(url("question", ada)).content.decode()

    assert f'<link rel="prefetch" as="image" href="{following.image.url}">' in page
    explanation = following.explanations.get(condition=ada.condition)
    assert f'<link rel="prefetch" as="image" href="{explanation.image.url}">' in page


def test_the_browsers_response_time_is_kept_beside_the_servers(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    client.get(url("question", ada))
    Participant.objects.filter(pk=ada.pk).update(current_shown_at=timezone.now() - timedelta(seconds=5))

    client.post(
        url("question", ada), {"question": ada.question_order[0], "option": CANT_TELL, "client_ms": "4200"}
    )

    answer = Answer.objects.get()
    assert answer.client_response_ms == 4200 and answer.response_ms >= 5000


@pytest.mark.parametrize("client_ms", ["", "0", "-5", "abc", "999999999", "6000"])
def test_an_implausible_or_missing_browser_time_is_left_out_and_the_answer_kept(
    study: Study, client_ms: str
) -> None:
    client = Client()
    ada = past_intro(client, study)
    client.get(url("question", ada))
    Participant.objects.filter(pk=ada.pk).update(current_shown_at=timezone.now() - timedelta(seconds=5))

    response = client.post(
        url("question", ada), {"question": ada.question_order[0], "option": CANT_TELL, "client_ms": client_ms}
    )

    assert response.status_code == 302
    answer = Answer.objects.get()
    assert answer.client_response_ms is None  # 6000 ms is more than the server's 5 s: not a measurement


def test_the_instructions_reopen_and_lead_back_to_the_same_question(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    first = client.get(url("question", ada)).content.decode()
    ada.refresh_from_db()
    shown_at = ada.current_shown_at

    help_page = client.get(url("help", ada)).content.decode()
    back = client.get(url("resume", ada))

    assert f'href="{url("help", ada)}"' in first  # linked from the question (and opened in place by JS)
    assert f"How {ada.condition.key} works." in help_page and f'href="{url("resume", ada)}"' in help_page
    assert back.url == url("question", ada)
    ada.refresh_from_db()
    assert ada.current_shown_at == shown_at  # the question's clock did not restart


def test_the_focus_ring_contrasts_at_least_3_to_1_with_what_it_sits_on() -> None:
    css = (Path(settings.BASE_DIR) / "static" / "survey" / "survey.css").read_text()
    colour = {
        name: re.search(rf"--{name}: (#[0-9a-f]{{6}})", css).group(1) for name in ("focus", "paper", "ground")
    }

    assert contrast(colour["focus"], colour["paper"]) >= 3
    assert contrast(colour["focus"], colour["ground"]) >= 3


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(one), luminance(other)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_no_form_nests_in_another_so_each_button_sends_its_own(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)

    page = client.get(url("question", ada)).content.decode()

    depth, deepest = 0, 0
    for tag in re.findall(r"<(/?)form\b", page):
        depth += -1 if tag else 1
        deepest = max(deepest, depth)
    assert deepest == 1 and depth == 0
