"""The participant's pages, and a staff member's preview of them. They work without JavaScript.

A participant's token travels in the URL and the session. Each page shows only the current step (intro,
comprehension, practice, question, done); asked for another, it redirects there. Nothing is cached, so
the back button fetches the current step. Prolific's ids in a study link are hashed into the session at
once and the link redirects to itself without them, so the raw ids stay out of the browser's history and
later referers. A refusal from a service (an ApplicationError) is shown on the "unavailable" page with
its status, unless the view has a better place to send the participant.

The step pages are written once, against a journey (survey.services.journeys): a participant's, whose
every step is stored, or a staff preview's, which walks the same steps in the session and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.pages import application_error_page
from survey.models import Condition, ConditionExample, Study
from survey.selectors.checks import ComprehensionIncomplete
from survey.selectors.content import condition_examples
from survey.selectors.participants import NextQuestion, Role, Step, participant_by_token
from survey.selectors.studies import study_by_slug, study_time_estimate
from survey.services.journeys import Journey, ParticipantJourney
from survey.services.participants import (
    CLIENT_MS_MAX,
    EXTERNAL_ID_MAX,
    ID_MAX,
    ExternalIdHashes,
    InvalidOption,
    ParticipantNotActive,
    SurveyError,
    external_id_hashes,
    participant_start,
)
from survey.services.previews import Preview
from survey.services.questions import Completed

# Prolific appends these to the study link; they are only ever kept hashed.
EXTERNAL_ID_PARAMS = {"prolific_pid": "PROLIFIC_PID", "study_id": "STUDY_ID", "session_id": "SESSION_ID"}
STEP_PAGES = {
    Step.INTRO: "intro",
    Step.COMPREHENSION: "comprehension",
    Step.PRACTICE: "practice",
    Step.QUESTION: "question",
    Step.DONE: "done",
}

JourneyView = Callable[[HttpRequest, Journey], HttpResponse]

error_page = application_error_page("survey/unavailable.html")


class StartForm(forms.Form):
    consent = forms.BooleanField(
        label="I have read the information above and agree to take part in this study.",
        error_messages={"required": "Please tick the consent box to take part."},
    )


class LinkIdsForm(forms.Form):
    """The ids in the study link's query string, named as Prolific names them."""

    PROLIFIC_PID = forms.CharField(required=False, max_length=EXTERNAL_ID_MAX)
    STUDY_ID = forms.CharField(required=False, max_length=EXTERNAL_ID_MAX)
    SESSION_ID = forms.CharField(required=False, max_length=EXTERNAL_ID_MAX)

    def external_ids(self) -> dict[str, str]:
        return {name: self.cleaned_data[param] for name, param in EXTERNAL_ID_PARAMS.items()}


class AnswerForm(forms.Form):
    question = forms.IntegerField(min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)
    option = forms.CharField(
        max_length=100, error_messages={"required": "Please choose one of the options before going on."}
    )
    role = forms.ChoiceField(
        choices=[(role, role) for role in Role], required=False, widget=forms.HiddenInput
    )
    # The browser's response time, filled in by survey.js; empty without JavaScript.
    client_ms = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"] or Role.QUESTION)

    def clean_client_ms(self) -> int | None:
        # A measurement, not the participant's input: anything but whole milliseconds is simply no measure.
        value = self.cleaned_data["client_ms"]
        return int(value) if value.isdigit() and 0 < int(value) <= CLIENT_MS_MAX else None


def _session_key(slug: str) -> str:
    return f"survey:participant:{slug}"


def _link_key(slug: str) -> str:
    return f"survey:link:{slug}"


def with_participant(view: JourneyView) -> Callable[..., HttpResponse]:
    """Resolve the URL's token to a participant of the URL's study, and record that they were seen.

    The view decides the step from the participant as read: one gone quiet too long is shown as having
    left (participant_step), and is marked so when the visit is recorded.

    A refusal the view does not handle itself is shown on the error page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, token: str) -> HttpResponse:
        participant = participant_by_token(token=token, slug=slug)
        if participant is None:
            return _unavailable(request, "Link not found", "This survey link is not valid. Please check it.")
        journey = ParticipantJourney(participant)
        try:
            return view(request, journey)
        finally:
            journey.visit_end()  # after the view, so that its own write can record the visit

    return never_cache(error_page(wrapper))


def with_preview(view: JourneyView) -> Callable[..., HttpResponse]:
    """Staff only: the preview in the URL's condition, carried on from the session (or begun again)."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, condition: str) -> HttpResponse:
        found = _study_condition(slug=slug, key=condition)
        if found is None:
            return _unavailable(request, "Preview not found", "There is no such study or condition.")
        preview = Preview.load(session=request.session, study=found[0], condition=found[1])
        if preview is None:  # never begun, or left: begin at the landing page, as participants do
            return redirect("survey:preview", slug=slug, condition=condition)
        return view(request, preview)

    return staff_member_required(never_cache(error_page(wrapper)))


def _study_condition(*, slug: str, key: str) -> tuple[Study, Condition] | None:
    condition = Condition.objects.select_related("study").filter(study__slug=slug, key=key).first()
    return None if condition is None else (condition.study, condition)


def _step_response(request: HttpRequest, journey: Journey) -> HttpResponse:
    """Where the participant belongs now: their current page, or the page saying they left."""
    step = journey.step()
    if step == Step.ABANDONED:
        return render(request, "survey/abandoned.html", {"study": journey.study})
    return redirect(journey.links[STEP_PAGES[step]])


def _context(journey: Journey, **extra: object) -> dict[str, object]:
    return {
        "study": journey.study,
        "condition": journey.condition,
        "journey": journey,
        "links": journey.links,
        "preview": journey.preview,
        **extra,
    }


def _unavailable(request: HttpRequest, title: str, message: str, *, status: int = 404) -> HttpResponse:
    return render(request, "survey/unavailable.html", {"title": title, "message": message}, status=status)


def _study_unavailable(request: HttpRequest, study: Study) -> HttpResponse:
    if study.status == Study.Status.DRAFT:
        return _unavailable(request, "Not open yet", "This study is not open yet. Please come back later.")
    return _unavailable(request, "Study closed", "This study is closed and takes no new participants.")


# The landing pages: a participant's, and a staff preview's


@never_cache
@require_http_methods(["GET", "POST"])
@error_page
def landing(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_by_slug(slug=slug)
    if study is None:
        return _unavailable(request, "Study not found", "There is no study at this address.")
    if request.method == "GET" and any(param in request.GET for param in EXTERNAL_ID_PARAMS.values()):
        return _link_ids_keep(request, study)
    link = ExternalIdHashes(**request.session.get(_link_key(slug), {}))
    # Someone who already started here, in this browser, carries on rather than starting twice; unless
    # the link names someone else (a shared browser), who starts afresh.
    returning = participant_by_token(token=request.session.get(_session_key(slug), ""), slug=slug)
    if returning is not None and link.fit(returning):
        return redirect("survey:resume", slug=slug, token=returning.token)
    if not study.takes_participants:
        return _study_unavailable(request, study)
    if request.method == "POST":
        return _landing_post(request, study, link)
    return _landing_page(request, study, StartForm())


def _landing_page(
    request: HttpRequest, study: Study, form: StartForm, *, status: int = 200, **extra: object
) -> HttpResponse:
    context = {"study": study, "form": form, "estimate": study_time_estimate(study=study), **extra}
    return render(request, "survey/landing.html", context, status=status)


def _link_ids_keep(request: HttpRequest, study: Study) -> HttpResponse:
    """Keep the link's ids, hashed, in the session; then drop them from the address bar and history."""
    form = LinkIdsForm(request.GET)
    if not form.is_valid():
        message = "This study link is not valid. Please use the link you were given."
        return _unavailable(request, "Link not valid", message, status=400)
    hashes = external_id_hashes(study=study, **form.external_ids())
    request.session[_link_key(study.slug)] = asdict(hashes)
    others = request.GET.copy()
    for param in EXTERNAL_ID_PARAMS.values():
        others.pop(param, None)
    clean = reverse("survey:landing", kwargs={"slug": study.slug})
    return redirect(f"{clean}?{others.urlencode()}" if others else clean)


def _landing_post(request: HttpRequest, study: Study, link: ExternalIdHashes) -> HttpResponse:
    form = StartForm(request.POST)
    if not form.is_valid():
        return _landing_page(request, study, form, status=400)
    participant = participant_start(study=study, id_hashes=link)
    request.session[_session_key(study.slug)] = participant.token
    request.session.pop(_link_key(study.slug), None)
    return redirect("survey:intro", slug=study.slug, token=participant.token)


@staff_member_required
@never_cache
@require_http_methods(["GET", "POST"])
@error_page
def preview(request: HttpRequest, slug: str, condition: str) -> HttpResponse:
    """A staff member takes the survey in one condition, whatever the study's state; nothing is stored."""
    found = _study_condition(slug=slug, key=condition)
    if found is None:
        return _unavailable(request, "Preview not found", "There is no such study or condition.")
    study, chosen = found
    extra = {"preview": True, "condition": chosen}
    if request.method == "GET":
        return _landing_page(request, study, StartForm(), **extra)
    form = StartForm(request.POST)
    if not form.is_valid():
        return _landing_page(request, study, form, status=400, **extra)
    begun = Preview.start(session=request.session, study=study, condition=chosen)
    return redirect(begun.links["intro"])


# The steps, for participants and previews alike


def resume(request: HttpRequest, journey: Journey) -> HttpResponse:
    """The participant's own link: this browser remembers them from now on (the landing page sends them
    back here rather than starting them twice). The other steps leave the session alone."""
    if isinstance(journey, ParticipantJourney):
        key, token = _session_key(journey.study.slug), journey.participant.token
        if request.session.get(key) != token:
            request.session[key] = token
    return _step_response(request, journey)


def intro(request: HttpRequest, journey: Journey) -> HttpResponse:
    if journey.step() != Step.INTRO:
        return _step_response(request, journey)
    if request.method == "POST":
        journey.intro_seen()
        return _step_response(request, journey)
    total = journey.progress().total
    return render(request, "survey/intro.html", _context(journey, examples=_examples(journey), total=total))


def _examples(journey: Journey) -> list[ConditionExample]:
    return condition_examples(study=journey.study, condition_id=journey.condition.pk)


def comprehension(request: HttpRequest, journey: Journey) -> HttpResponse:
    if journey.step() != Step.COMPREHENSION:
        return _step_response(request, journey)
    state = journey.comprehension()
    if request.method == "GET":
        return _comprehension_page(request, journey, chosen={})
    chosen = {item.number: request.POST.get(f"item-{item.number}", "") for item in state.pending}
    try:
        journey.comprehension_answer(choices=chosen)
    except ComprehensionIncomplete as exc:
        return _comprehension_page(request, journey, chosen=chosen, error=exc.message, status=400)
    return _step_response(request, journey)


def _comprehension_page(
    request: HttpRequest, journey: Journey, *, chosen: dict[int, str], error: str = "", status: int = 200
) -> HttpResponse:
    state = journey.comprehension()
    items = [(item, chosen.get(item.number, "")) for item in state.pending]
    context = _context(journey, state=state, items=items, error=error, examples=_examples(journey))
    return render(request, "survey/comprehension.html", context, status=status)


def practice(request: HttpRequest, journey: Journey) -> HttpResponse:
    if journey.step() != Step.PRACTICE:
        return _step_response(request, journey)
    if request.method == "GET":
        return _question_page(request, journey, practice=True)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _question_page(request, journey, form=form, practice=True, status=400)
    try:
        journey.practice_answer(
            question_id=form.cleaned_data["question"],
            option=form.cleaned_data["option"],
            client_ms=form.cleaned_data["client_ms"],
        )
    except InvalidOption as exc:
        form.add_error("option", str(exc))
        return _question_page(request, journey, form=form, practice=True, status=400)
    except SurveyError as exc:  # another practice question, or a changed answer: nothing stored
        messages.error(request, str(exc))
        return _step_response(request, journey)
    return redirect(journey.links["feedback"])


def feedback(request: HttpRequest, journey: Journey) -> HttpResponse:
    """What the model predicted for the practice question just answered (reloadable until questions begin)."""
    shown = journey.practice_feedback()
    if shown is None or journey.step() not in {Step.PRACTICE, Step.QUESTION} or journey.progress().answered:
        return _step_response(request, journey)
    return render(request, "survey/feedback.html", _context(journey, feedback=shown))


def question(request: HttpRequest, journey: Journey) -> HttpResponse:
    step = journey.step()
    if request.method == "POST" and step in {Step.QUESTION, Step.DONE}:
        return _question_post(request, journey)
    if step != Step.QUESTION:
        return _step_response(request, journey)
    return _question_page(request, journey)


def _question_page(
    request: HttpRequest,
    journey: Journey,
    *,
    form: AnswerForm | None = None,  # a refused answer's, to show its errors; a fresh page needs none
    practice: bool = False,
    status: int = 200,
) -> HttpResponse:
    upcoming: NextQuestion | Completed | None = journey.practice() if practice else journey.current()
    if not isinstance(upcoming, NextQuestion):
        return _step_response(request, journey)
    action = journey.links["practice" if practice else "question"]
    context = _context(
        journey, upcoming=upcoming, form=form, practice=practice, action=action, examples=_examples(journey)
    )
    return render(request, "survey/question.html", context, status=status)


def _question_post(request: HttpRequest, journey: Journey) -> HttpResponse:
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _question_page(request, journey, form=form, status=400)
    try:
        journey.answer(
            role=form.cleaned_data["role"],
            question_id=form.cleaned_data["question"],
            option=form.cleaned_data["option"],
            client_ms=form.cleaned_data["client_ms"],
        )
    except ParticipantNotActive:
        return _step_response(request, journey)
    except InvalidOption as exc:
        form.add_error("option", str(exc))
        return _question_page(request, journey, form=form, status=400)
    except SurveyError as exc:  # an answer to another question, or a change of an answer: nothing stored
        messages.error(request, str(exc))
    return _step_response(request, journey)


def help_page(request: HttpRequest, journey: Journey) -> HttpResponse:
    """How to read the explanation, reopened from any step; going back returns to the same place."""
    if journey.step() in {Step.DONE, Step.ABANDONED}:
        return _step_response(request, journey)
    return render(request, "survey/help.html", _context(journey, examples=_examples(journey)))


def done(request: HttpRequest, journey: Journey) -> HttpResponse:
    if journey.step() != Step.DONE:
        return _step_response(request, journey)
    study = journey.study
    # A unique code must be seen to be copied, so it is shown, with a link on, rather than redirected past.
    if study.completion_redirect_url and not study.unique_completion_codes and not journey.preview:
        return redirect(study.completion_redirect_url)
    return render(request, "survey/done.html", _context(journey, code=journey.completion_code()))


def leave(request: HttpRequest, journey: Journey) -> HttpResponse:
    if journey.step() in {Step.DONE, Step.ABANDONED}:
        return _step_response(request, journey)
    if request.method == "POST":
        try:
            journey.leave()
        except SurveyError:  # finished in another tab meanwhile: show where they are now
            return _step_response(request, journey)
        return render(request, "survey/left.html", _context(journey))
    return render(request, "survey/leave.html", _context(journey, progress=journey.progress()))


# Each step page, as a participant's and as a preview's view.
PAGE_VIEWS: dict[str, tuple[JourneyView, list[str]]] = {
    "resume": (resume, ["GET"]),
    "intro": (intro, ["GET", "POST"]),
    "comprehension": (comprehension, ["GET", "POST"]),
    "practice": (practice, ["GET", "POST"]),
    "feedback": (feedback, ["GET"]),
    "question": (question, ["GET", "POST"]),
    "help": (help_page, ["GET"]),
    "done": (done, ["GET"]),
    "leave": (leave, ["GET", "POST"]),
}
participant_pages = {
    name: require_http_methods(methods)(with_participant(view))
    for name, (view, methods) in PAGE_VIEWS.items()
}
preview_pages = {
    name: require_http_methods(methods)(with_preview(view)) for name, (view, methods) in PAGE_VIEWS.items()
}
