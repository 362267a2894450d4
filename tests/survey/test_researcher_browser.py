"""A researcher runs a study from a real (headless) Chromium: log in, import a zip, open the study, copy its
link, and a participant takes the survey at that link while the study page's monitor follows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from survey.models import Participant, Study
from tests.survey.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.survey.zip_helpers import bundle_zip

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path("/tmp/researcher-screens")
PASSWORD = "a-long-researcher-password"


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
            connections.close_all()  # the connection Django gave Playwright's thread (see test_browser.py)


def context_for(browser: Browser, live_server, hosts: set[str], **options: object) -> BrowserContext:
    """A browser context that records the host of every request its pages send over the network.

    A request the page's Content-Security-Policy stopped (ReDoc's logo, see templates/drf_spectacular)
    never left the browser, so it is not counted.
    """
    context = browser.new_context(viewport=DESKTOP, **options)
    context.on("requestfinished", lambda request: hosts.add(_host(request.url)))
    context.on(
        "requestfailed",
        lambda request: None if "csp" in (request.failure or "").lower() else hosts.add(_host(request.url)),
    )
    context.set_default_timeout(15_000)
    return context


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc if parts.scheme in {"http", "https", "ws", "wss"} else "(inline)"  # data:, blob:


def log_in(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username:").fill("researcher")
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def take_the_survey(page: Page, link: str, *, questions: int) -> None:
    page.goto(link)
    page.get_by_label("I have read the information above and agree to take part").check()
    page.get_by_role("button", name="Start the study").click()
    page.get_by_role("button", name="Continue to the questions").click()
    for position in range(1, questions + 1):
        expect(page.get_by_text(f"Question {position} of {questions}", exact=True)).to_be_visible()
        page.get_by_role("radio").first.check()
        page.get_by_role("button", name="Finish" if position == questions else "Next question").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()


def test_a_researcher_imports_opens_and_shares_a_study_and_watches_a_participant_finish(
    browser: Browser, live_server, django_user_model, tmp_path: Path
) -> None:
    django_user_model.objects.create_superuser("researcher", "r@example.org", PASSWORD)
    archive = tmp_path / "bundled.zip"
    archive.write_bytes(bundle_zip(tmp_path, top="bundled"))
    SCREENSHOTS.mkdir(exist_ok=True)
    hosts: set[str] = set()
    staff = context_for(browser, live_server, hosts)
    staff.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = staff.new_page()

    log_in(page, live_server)
    page.get_by_role("link", name="Studies").first.click()
    page.get_by_role("link", name="Import a bundle (.zip)").click()
    page.get_by_label("Bundle (.zip):").set_input_files(str(archive))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported bundled: 3 questions, draft.")).to_be_visible()

    page.get_by_role("button", name="Open to participants").click()
    expect(page.get_by_text("bundled is now open.")).to_be_visible()
    page.get_by_role("button", name="Copy").first.click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == f"{live_server.url}/s/bundled/"

    participant = context_for(browser, live_server, hosts).new_page()
    take_the_survey(participant, link, questions=3)
    study = Study.objects.get(slug="bundled")
    expect(participant.locator("#completion-code")).to_have_text(study.completion_code)

    # The monitor refreshes itself: the page is not reloaded, the counts change within its refresh time.
    monitor = page.locator(".monitor")
    expect(monitor.locator("tfoot td").nth(2)).to_have_text("1", timeout=15_000)
    expect(monitor.locator("tfoot td").nth(4)).to_have_text("100% (1 of 1)")
    expect(page.get_by_text("bundled is now open.")).to_be_visible()  # the same page, never reloaded
    page.screenshot(path=str(SCREENSHOTS / "study-page.png"), full_page=True)
    monitor.screenshot(path=str(SCREENSHOTS / "monitor.png"))

    page.get_by_role("link", name="Participants", exact=True).first.click()
    row = page.locator("#result_list tbody tr").first
    for text in ["bundled", "Completed", "3/3"]:
        expect(row).to_contain_text(text)
    results = "document.querySelector('#changelist .results')"
    assert page.evaluate(f"{results}.scrollWidth <= {results}.clientWidth")  # no sideways scrolling
    expect(row).to_contain_text(timezone.localtime().strftime("%b %-d, "))  # last seen
    page.screenshot(path=str(SCREENSHOTS / "participants.png"), full_page=True)

    for docs in ("/api/docs/", "/api/redoc/"):
        page.goto(f"{live_server.url}{docs}")
        expect(page.get_by_text("XAI survey platform API").first).to_be_visible()
        page.wait_for_load_state("networkidle")  # what the docs fetch once drawn (ReDoc's logo) is seen too
    assert Participant.objects.get().status == Participant.Status.COMPLETED
    assert hosts - {"(inline)"} == {urlsplit(live_server.url).netloc}  # nothing loaded from elsewhere
