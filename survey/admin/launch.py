"""The study page's launch panel and what it links to: the survey link, previews, open and close, the
live monitor, the bundle download and duplication as a new draft.

StudyAdmin.get_urls mounts ``launch_urls``; the panel itself is drawn by the ``launch_panel`` tag in the
study's change form (templates/admin/survey/study/change_form.html).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from survey.models import Study
from survey.selectors.monitor import study_monitor
from survey.services import studies as study_services
from survey.services.bundle_archive import study_export_zip
from survey.services.bundles import study_duplicate
from survey.services.studies import study_readiness_problems

MONITOR_REFRESH_SECONDS = 5
PROLIFIC_QUERY = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"


def launch_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    def view(function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        return model_admin.admin_site.admin_view(partial(function, model_admin=model_admin))

    return [
        path("<int:pk>/monitor/", view(monitor_json), name="survey_study_monitor"),
        path("<int:pk>/launch/<slug:action>/", view(status_change), name="survey_study_launch"),
        path("<int:pk>/duplicate/", view(duplicate), name="survey_study_duplicate"),
        path("<int:pk>/export.zip", view(export_zip), name="survey_study_export"),
    ]


def _study(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int, *, to: str) -> Study:
    """The study, if this staff member may ``to`` (view, change) it; 404 or 403 otherwise."""
    study = get_object_or_404(Study, pk=pk)
    allowed = {"view": model_admin.has_view_permission, "change": model_admin.has_change_permission}[to]
    if not allowed(request, study):
        raise PermissionDenied
    return study


# The panel


def launch_context(*, study: Study, request: HttpRequest) -> dict[str, Any]:
    """What the launch panel shows of ``study``, with absolute links to copy."""
    survey_url = request.build_absolute_uri(reverse("survey:landing", kwargs={"slug": study.slug}))
    return {
        "study": study,
        "survey_url": survey_url,
        "prolific_url": f"{survey_url}?{PROLIFIC_QUERY}",
        "previews": _previews(study),
        "actions": _actions(study),
        "problems": study_readiness_problems(study=study) if study.status != Study.Status.OPEN else [],
        "links": _links(study),
        "monitor": study_monitor(study=study),
        "monitor_url": reverse("admin:survey_study_monitor", args=[study.pk]),
        "refresh_seconds": MONITOR_REFRESH_SECONDS,
    }


def _previews(study: Study) -> list[tuple[str, str]]:
    return [
        (condition.name, reverse("survey:preview", kwargs={"slug": study.slug, "condition": condition.key}))
        for condition in study.conditions.all()
    ]


def _actions(study: Study) -> list[tuple[str, str]]:
    """(action, label) of the status changes the study can take now."""
    status = Study.Status
    actions = [] if study.status == status.OPEN else [("open", "Open to participants")]
    if study.status == status.DRAFT:
        actions.append(("pilot", "Start a pilot"))
    if study.status not in {status.CLOSED, status.DRAFT}:
        actions.append(("close", "Close"))
    return actions


def _links(study: Study) -> list[tuple[str, str]]:
    links = [
        (reverse("admin:survey_participant_changelist") + f"?study__id__exact={study.pk}", "Participants"),
    ]
    analysis = [("analysis-study-results", "Results"), ("analysis-study-responses", "Responses (CSV)")]
    for name, label in analysis:
        try:
            links.append((reverse(name, kwargs={"slug": study.slug}), label))
        except NoReverseMatch:  # the analysis app is not installed
            continue
    links.append((reverse("admin:survey_study_export", args=[study.pk]), "Download the bundle (.zip)"))
    links.append((reverse("admin:survey_study_duplicate", args=[study.pk]), "Duplicate as a new draft"))
    return links


# The views


@require_GET
def monitor_json(request: HttpRequest, pk: int, *, model_admin: admin.ModelAdmin) -> JsonResponse:
    return JsonResponse(study_monitor(study=_study(model_admin, request, pk, to="view")))


@require_POST
def status_change(
    request: HttpRequest, pk: int, action: str, *, model_admin: admin.ModelAdmin
) -> HttpResponse:
    study = _study(model_admin, request, pk, to="change")
    change = {
        "open": study_services.study_open,
        "close": study_services.study_close,
        "pilot": study_services.study_pilot,
    }
    if action not in change:
        raise PermissionDenied(f"unknown action {action!r}")
    try:
        change[action](study=study)
    except ApplicationError as exc:
        messages.error(request, f"{study.slug} cannot {action}: {exc.message}.")
    else:
        study.refresh_from_db(fields=["status"])
        messages.success(request, f"{study.slug} is now {study.get_status_display().lower()}.")
    return redirect("admin:survey_study_change", study.pk)


@require_GET
def export_zip(request: HttpRequest, pk: int, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    study = _study(model_admin, request, pk, to="view")
    try:
        archive = study_export_zip(study=study)
    except ApplicationError as exc:
        messages.error(request, f"{study.slug} cannot be exported: {exc.message}")
        return redirect("admin:survey_study_change", study.pk)
    return FileResponse(archive, as_attachment=True, filename=f"{study.slug}.zip")


class DuplicateForm(forms.Form):
    slug = forms.SlugField(max_length=50, help_text="The copy's address: /s/<slug>/.")
    name = forms.CharField(max_length=200)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Study.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"A study with slug {slug!r} exists already.")
        return slug


def duplicate(request: HttpRequest, pk: int, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    study = _study(model_admin, request, pk, to="view")
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    initial = {"slug": _free_slug(study.slug), "name": f"{study.name} (copy)"}
    form = DuplicateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            copy = study_duplicate(study=study, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.extra.get("problems") or exc.message)
        else:
            messages.success(
                request,
                f"{copy.slug} is a new draft with {study.slug}'s questions and conditions. It has its own "
                f"completion code ({copy.completion_code}); set its completion redirect for Prolific.",
            )
            return redirect("admin:survey_study_change", copy.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Study._meta,
        "original": study,
        "title": f"Duplicate {study.name}",
        "form": form,
    }
    return TemplateResponse(request, "admin/survey/study/duplicate.html", context)


def _free_slug(slug: str) -> str:
    stem = slug[:46]
    number = 2
    while Study.objects.filter(slug=f"{stem}-{number}").exists():
        number += 1
    return f"{stem}-{number}"
