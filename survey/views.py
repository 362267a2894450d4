"""The participant's pages. They work without JavaScript; the token travels in the URL and the session.

Each participant page shows only the participant's current step (landing, intro, question, done);
asked for another, it redirects there. Nothing is cached, so the back button fetches the current step.
Prolific's ids in a study link are hashed into the session at once and the link redirects to itself
without them, so the raw ids stay out of the browser's history and later referers. A refusal from a
service (an ApplicationError) is shown on the "unavailable" page with its status, unless the view
has a better place to send the participant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.pages import application_error_page
from survey.models import Participant, Study
from survey.selectors.participants import (
    Step,
    participant_by_token,
    participant_progress,
    participant_step,
)
from survey.selectors.studies import study_by_slug
from survey.services.participants import (
    EXTERNAL_ID_MAX,
    ID_MAX,
    ExternalIdHashes,
    InvalidOption,
    ParticipantNotActive,
    SurveyError,
    answer_submit,
    external_id_hashes,
    participant_intro_seen,
    participant_leave,
    participant_start,
    participant_touch,
)
from survey.services.questions import Completed, participant_current_question

# Prolific appends these to the study link; they are only ever kept hashed.
EXTERNAL_ID_PARAMS = {"prolific_pid": "PROLIFIC_PID", "study_id": "STUDY_ID", "session_id": "SESSION_ID"}
STEP_URL_NAMES = {Step.INTRO: "survey:intro", Step.QUESTION: "survey:question", Step.DONE: "survey:done"}

ParticipantView = Callable[..., HttpResponse]

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


def _session_key(slug: str) -> str:
    return f"survey:participant:{slug}"


def _link_key(slug: str) -> str:
    return f"survey:link:{slug}"


def with_participant(view: ParticipantView) -> ParticipantView:
    """Resolve the URL's token to a participant of the URL's study, and record that they were seen.

    A refusal the view does not handle itself is shown on the error page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, token: str) -> HttpResponse:
        participant = participant_by_token(token=token, slug=slug)
        if participant is None:
            return _unavailable(request, "Link not found", "This survey link is not valid. Please check it.")
        if request.session.get(_session_key(slug)) != token:
            request.session[_session_key(slug)] = token
        return view(request, participant_touch(participant=participant))

    return never_cache(error_page(wrapper))


def _step_response(request: HttpRequest, participant: Participant) -> HttpResponse:
    """Where the participant belongs now: their current page, or the page saying they left."""
    step = participant_step(participant)
    if step == Step.ABANDONED:
        return render(request, "survey/abandoned.html", {"study": participant.study})
    return redirect(STEP_URL_NAMES[step], slug=participant.study.slug, token=participant.token)


def _unavailable(request: HttpRequest, title: str, message: str, *, status: int = 404) -> HttpResponse:
    return render(request, "survey/unavailable.html", {"title": title, "message": message}, status=status)


def _study_unavailable(request: HttpRequest, study: Study) -> HttpResponse:
    if study.status == Study.Status.DRAFT:
        return _unavailable(request, "Not open yet", "This study is not open yet. Please come back later.")
    return _unavailable(request, "Study closed", "This study is closed and takes no new participants.")


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
    if not study.is_open:
        return _study_unavailable(request, study)
    if request.method == "POST":
        return _landing_post(request, study, link)
    return render(request, "survey/landing.html", {"study": study, "form": StartForm()})


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
        return render(request, "survey/landing.html", {"study": study, "form": form}, status=400)
    participant = participant_start(study=study, id_hashes=link)
    request.session[_session_key(study.slug)] = participant.token
    request.session.pop(_link_key(study.slug), None)
    return redirect("survey:intro", slug=study.slug, token=participant.token)


@require_http_methods(["GET"])
@with_participant
def resume(request: HttpRequest, participant: Participant) -> HttpResponse:
    return _step_response(request, participant)


@require_http_methods(["GET", "POST"])
@with_participant
def intro(request: HttpRequest, participant: Participant) -> HttpResponse:
    if participant_step(participant) != Step.INTRO:
        return _step_response(request, participant)
    if request.method == "POST":
        participant_intro_seen(participant=participant)
        return redirect("survey:question", slug=participant.study.slug, token=participant.token)
    context = {
        "study": participant.study,
        "participant": participant,
        "condition": participant.condition,
        "examples": participant.condition.examples.all(),
        "total": len(participant.question_order),
    }
    return render(request, "survey/intro.html", context)


@require_http_methods(["GET", "POST"])
@with_participant
def question(request: HttpRequest, participant: Participant) -> HttpResponse:
    step = participant_step(participant)
    if request.method == "POST" and step in {Step.QUESTION, Step.DONE}:
        return _question_post(request, participant)
    if step != Step.QUESTION:
        return _step_response(request, participant)
    return _question_page(request, participant, form=AnswerForm())


def _question_page(
    request: HttpRequest, participant: Participant, *, form: AnswerForm, status: int = 200
) -> HttpResponse:
    current = participant_current_question(participant=participant)
    if isinstance(current, Completed):
        return _step_response(request, participant)
    context = {"study": participant.study, "participant": participant, "upcoming": current, "form": form}
    return render(request, "survey/question.html", context, status=status)


def _question_post(request: HttpRequest, participant: Participant) -> HttpResponse:
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _question_page(request, participant, form=form, status=400)
    try:
        answer_submit(
            participant=participant,
            question_id=form.cleaned_data["question"],
            option=form.cleaned_data["option"],
        )
    except ParticipantNotActive:
        return _step_response(request, participant)
    except InvalidOption as exc:
        form.add_error("option", str(exc))
        return _question_page(request, participant, form=form, status=400)
    except SurveyError as exc:  # an answer to another question, or a change of an answer: nothing stored
        messages.error(request, str(exc))
    return _step_response(request, participant)


@require_http_methods(["GET"])
@with_participant
def done(request: HttpRequest, participant: Participant) -> HttpResponse:
    if participant_step(participant) != Step.DONE:
        return _step_response(request, participant)
    study = participant.study
    if study.completion_redirect_url:
        return redirect(study.completion_redirect_url)
    return render(request, "survey/done.html", {"study": study, "participant": participant})


@require_http_methods(["GET", "POST"])
@with_participant
def leave(request: HttpRequest, participant: Participant) -> HttpResponse:
    if participant_step(participant) not in {Step.INTRO, Step.QUESTION}:
        return _step_response(request, participant)
    if request.method == "POST":
        try:
            participant_leave(participant=participant)
        except SurveyError:  # finished in another tab meanwhile: show where they are now
            return _step_response(request, participant)
        return render(request, "survey/left.html", {"study": participant.study})
    context = {
        "study": participant.study,
        "participant": participant,
        "progress": participant_progress(participant),
    }
    return render(request, "survey/leave.html", context)
