"""A participant takes the whole survey in a real (headless) Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from survey.models import Answer, Participant
from tests.factories import make_study

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
SCREENSHOT = Path("/tmp/question.png")


@pytest.fixture
def page() -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (make chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
            # Inside Playwright's event loop Django hands this thread a separate connection: close it
            # here, or it outlives the test and blocks dropping the test database.
            connections.close_all()


def shown_question(page: Page) -> str:
    return page.locator('input[name="question"]').get_attribute("value")


def shown_options(page: Page) -> list[str]:
    return page.locator('input[name="option"]').evaluate_all("inputs => inputs.map(i => i.value)")


def test_a_participant_takes_the_whole_survey_and_gets_the_code(page: Page, live_server) -> None:
    study = make_study()
    study.description = "Help us find out how people read explanations of an image classifier."
    study.save()

    page.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=5f1d2a3b4c5d6e7f")
    expect(page.get_by_text("Help us find out how people read explanations")).to_be_visible()
    page.get_by_role("button", name="Start the study").click()
    expect(page.get_by_text("Please tick the consent box to take part.")).to_be_visible()
    page.get_by_label("I have read the information above and agree to take part").check()
    page.get_by_role("button", name="Start the study").click()

    expect(page.get_by_role("heading", name="How to read the explanations")).to_be_visible()
    page.get_by_role("button", name="Continue to the questions").click()

    for position in range(1, 31):
        expect(page.get_by_text(f"Question {position} of 30", exact=True)).to_be_visible()
        expect(page.get_by_role("group", name="What is the model's prediction?")).to_be_visible()
        if position == 1:
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        if position == 12:
            question, options = shown_question(page), shown_options(page)
            page.reload()
            expect(page.get_by_text("Question 12 of 30", exact=True)).to_be_visible()
            assert (shown_question(page), shown_options(page)) == (question, options)
        page.get_by_role("radio").nth(position % 5).check()
        page.get_by_role("button", name="Finish" if position == 30 else "Next question").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("#completion-code")).to_have_text("C0MPL3TE")
    participant = Participant.objects.get()
    assert participant.status == Participant.Status.COMPLETED
    assert participant.prolific_pid_hash and participant.intro_seen_at is not None
    assert Answer.objects.filter(participant=participant).count() == 30
    assert SCREENSHOT.stat().st_size > 0
