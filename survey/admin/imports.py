"""A study bundle uploaded as a .zip from the admin, checked and imported all or nothing."""

from __future__ import annotations

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core.errors import ApplicationError
from survey.models import Study
from survey.services.bundle_archive import study_import_zip


def import_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view(partial(study_import, model_admin=model_admin))
    return [path("import/", view, name="survey_study_import")]


class BundleUploadForm(forms.Form):
    archive = forms.FileField(
        label="Bundle (.zip)",
        help_text="A .zip of a bundle folder: study.json and the images it names, as export_study writes it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    open_study = forms.BooleanField(required=False, label="Open it to participants at once")
    replace = forms.BooleanField(
        required=False, label="Replace the study with the same slug (only while nobody has taken part)"
    )


def study_import(request: HttpRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = BundleUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            study = study_import_zip(
                upload=form.cleaned_data["archive"],
                open_study=form.cleaned_data["open_study"],
                replace=form.cleaned_data["replace"],
            )
        except ApplicationError as exc:  # a bad archive or bundle, or a study that cannot open
            problems = [str(problem) for problem in exc.extra.get("problems") or [exc.message]]
        except OSError as exc:
            problems = [f"the images could not be stored ({exc})"]
        else:
            state = study.get_status_display().lower()
            messages.success(request, f"Imported {study.slug}: {study.questions.count()} questions, {state}.")
            return redirect("admin:survey_study_change", study.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Study._meta,
        "title": "Import a study bundle",
        "form": form,
        "problems": problems,
        "max_mb": settings.SURVEY_IMPORT_MAX_MB,
        "max_files": settings.SURVEY_IMPORT_MAX_FILES,
    }
    status = 400 if problems else 200
    return TemplateResponse(request, "admin/survey/study/import.html", context, status=status)
