"""A participant takes the whole survey in a real (headless) Chromium, on a desktop and on a phone."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from survey.models import (
    Answer,
    ComprehensionAnswer,
    Explanation,
    ExtraAnswer,
    ExtraExplanation,
    ExtraQuestion,
    Participant,
    Question,
    Study,
)
from tests.factories import make_study
from tests.survey.helpers_checks import READING, TASK, comprehension_add, instructed_add, practice_add

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path("/tmp")
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
CHECK_AFTER = 12  # the instructed-response check comes after this many questions


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (make chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # Inside Playwright's event loop Django hands this thread a separate connection: close it
            # here, or it outlives the test and blocks dropping the test database.
            connections.close_all()


def page_of(browser: Browser, device: dict) -> Page:
    page = browser.new_page(**device)
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def study() -> Study:
    """The paper's 30 questions, with comprehension questions, a practice question and an attention check.

    The images are 8 px squares, so the page shows them at their largest (40 times, 320 px): the worst case
    for the fold.
    """
    study = make_study()
    study.description = "Help us find out how people read explanations of an image classifier."
    study.class_names = {"diningtable": "dining table"}
    study.save()
    comprehension_add(study)
    practice_add(study, 1)
    instructed_add(study, position=CHECK_AFTER)
    for model in (Question, Explanation, ExtraQuestion, ExtraExplanation):
        model.objects.update(image_width=8, image_height=8)
    return study


def above_the_fold(page: Page) -> list[str]:
    """What of the question (both images, the five options, the button) lies outside the first screen."""
    return page.evaluate(
        """() => {
          const parts = [...document.querySelectorAll('img.shown, .question-form .option, .answer button')];
          return parts.filter(el => {
            const box = el.getBoundingClientRect();
            return box.top < 0 || box.bottom > innerHeight || box.left < 0 || box.right > innerWidth;
          }).map(el => el.outerHTML.slice(0, 60)).concat(scrollY ? ['scrolled'] : []);
        }"""
    )


def drawn_sizes(page: Page) -> list[tuple[int, float, str]]:
    """Each image's native width, its width on screen in device pixels, and how it is drawn."""
    return page.evaluate(
        """() => [...document.querySelectorAll('img.shown')].map(i => [
            i.naturalWidth,
            i.getBoundingClientRect().width * devicePixelRatio,
            getComputedStyle(i).imageRendering,
        ])"""
    )


def begin(page: Page, live_server, study: Study) -> None:
    page.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=5f1d2a3b4c5d6e7f")
    expect(page.get_by_text("Help us find out how people read explanations")).to_be_visible()
    page.get_by_role("button", name="Start the study").click()
    expect(page.get_by_text("Please tick the consent box to take part.")).to_be_visible()
    page.get_by_label("I have read the information above and agree to take part").check()
    page.get_by_role("button", name="Start the study").click()
    expect(page.get_by_role("heading", name="How to read the explanations")).to_be_visible()
    page.get_by_role("button", name="Continue to the questions").click()


def understand(page: Page) -> None:
    """Answer the comprehension check wrong once, read the explanation again, then answer it right."""
    expect(page.get_by_role("heading", name="Check your understanding")).to_be_visible()
    page.get_by_label("Name the object").check()
    page.get_by_label(READING["answer"]).check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_text("Not quite.")).to_be_visible()
    expect(page.get_by_text("How gradcam works.")).to_be_visible()  # the introduction, shown again
    page.get_by_label(TASK["answer"]).check()
    page.get_by_role("button", name="Check my answers").click()


def practise(page: Page) -> None:
    expect(page.get_by_role("heading", name="Practice question 1 of 1")).to_be_visible()
    page.locator("form[data-shown]").wait_for()
    assert above_the_fold(page) == []
    page.get_by_label("dog").check()
    page.get_by_role("button", name="Check my guess").click()
    expect(page.get_by_role("heading", name="Not quite: the model predicted “cat”")).to_be_visible()
    page.get_by_role("link", name="Start the questions").click()


def test_a_participant_takes_the_whole_survey_on_a_desktop_and_everything_fits(
    browser: Browser, live_server, study: Study
) -> None:
    page = page_of(browser, DESKTOP)
    begin(page, live_server, study)
    understand(page)
    practise(page)

    for position in range(1, 32):
        expect(page.get_by_role("heading", name=f"Question {position} of 31", exact=True)).to_be_visible()
        expect(page.get_by_role("group", name="What is the model's prediction?")).to_be_visible()
        page.locator(
            "form[data-shown]"
        ).wait_for()  # both images decoded and painted: the browser's clock runs
        assert above_the_fold(page) == [], position
        if position == 1:
            page.screenshot(path=str(SCREENSHOTS / "question-desktop.png"))
            assert drawn_sizes(page) == [[8, 320, "pixelated"], [8, 320, "pixelated"]]
            reopen_the_instructions_in_place(page)
            enlarge_an_image(page)
        if position == CHECK_AFTER + 1:
            expect(page.get_by_text("For this question, please choose “I just can't tell”.")).to_be_visible()
            page.keyboard.press("5")
        else:
            page.keyboard.press(str(position % 4 + 1))  # keys 1-5 choose an option
        expect(page.locator("input[name=option]:checked")).to_have_count(1)
        page.get_by_role("button", name="Finish" if position == 31 else "Next question").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("#completion-code")).to_have_text("C0MPL3TE")
    participant = Participant.objects.get()
    assert participant.status == Participant.Status.COMPLETED
    assert participant.prolific_pid_hash and participant.comprehension_passed_at is not None
    assert list(ComprehensionAnswer.objects.values_list("correct", flat=True)) == [False, True, True]
    assert Answer.objects.filter(participant=participant).count() == 30
    practice, check = ExtraAnswer.objects.order_by("-question__role")
    assert (practice.question.role, practice.correct, practice.position) == ("practice", False, 1)
    assert (check.question.role, check.correct, check.position) == ("attention", True, CHECK_AFTER + 1)
    assert not participant.attention_failed
    # The browser's time, from both images shown to the click, is stored beside the server's and is less.
    for answer in Answer.objects.filter(participant=participant):
        assert 0 < answer.client_response_ms < answer.response_ms, answer.position


def reopen_the_instructions_in_place(page: Page) -> None:
    address = page.url
    page.get_by_role("link", name="How to read the explanation").click()
    dialog = page.get_by_role("dialog", name="How to read the explanation")
    expect(dialog.get_by_text("How gradcam works.")).to_be_visible()
    dialog.get_by_role("button", name="Back to the question").click()
    expect(dialog).to_be_hidden()
    assert page.url == address


def enlarge_an_image(page: Page) -> None:
    page.get_by_role("img", name="The image the model classified").click()
    enlarged = page.get_by_role("img", name="The image the model classified, enlarged")
    expect(enlarged).to_be_visible()
    width = enlarged.evaluate("img => img.getBoundingClientRect().width")
    assert width > 320 and width % 8 == 0  # larger, by a whole factor of its 8 px
    page.get_by_role("dialog", name="Enlarged image").get_by_role("button", name="Close").click()


def test_on_a_phone_the_question_and_the_attention_check_fit_the_screen(
    browser: Browser, live_server, study: Study
) -> None:
    ExtraQuestion.objects.filter(role=ExtraQuestion.Role.ATTENTION).update(position=1)
    page = page_of(browser, PHONE)
    begin(page, live_server, study)
    understand(page)
    practise(page)

    for position in (1, 2):
        expect(page.get_by_role("heading", name=f"Question {position} of 31", exact=True)).to_be_visible()
        page.locator("form[data-shown]").wait_for()
        assert above_the_fold(page) == [], position
        native, drawn = zip(*[(size[0], size[1]) for size in drawn_sizes(page)], strict=True)
        assert all(shown >= size for size, shown in zip(native, drawn, strict=True))  # never below native
        if position == 1:
            page.screenshot(path=str(SCREENSHOTS / "question-phone.png"))
        page.get_by_role("radio").nth(4).check()
        page.get_by_role("button", name="Next question").click()

    expect(page.get_by_role("heading", name="Question 3 of 31", exact=True)).to_be_visible()
    assert ExtraAnswer.objects.filter(question__role=ExtraQuestion.Role.ATTENTION, correct=True).count() == 1
    assert re.fullmatch(r".*/question/", page.url)
