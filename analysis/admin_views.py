"""Staff pages in the admin: a study's results, and its responses file. urls.py wraps them in admin_view."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from analysis import report
from analysis.planning import PlanSettings, plan_from_scores
from analysis.plots import (
    FLOW_FILENAME,
    ITEMS_FILENAME,
    accuracy_histogram_png,
    analysis_figures,
    power_curve_png,
)
from analysis.responses import responses_write
from analysis.results import Analysis, AnalysisError, AnalysisOptions
from analysis.services import study_get, study_question_images, study_responses, study_results
from analysis.stats import ALTERNATIVES, P_METHODS, SUBSET_LABELS, SUBSETS
from survey.models import Study


class ResultsOptionsForm(forms.Form):
    min_answers = forms.IntegerField(
        min_value=1,
        required=False,
        label="Also count unfinished participants with at least this many answers in a subset",
    )
    continuity = forms.BooleanField(required=False, label="Continuity correction")
    min_median_ms = forms.IntegerField(
        min_value=1,
        required=False,
        label="Leave out participants whose median response time is under (ms)",
    )
    skip_mixed_model = forms.BooleanField(required=False, label="Skip the logistic mixed model")
    p_method = forms.ChoiceField(
        choices=[(method, method) for method in P_METHODS],
        required=False,
        label="Mann-Whitney p (auto: exact below 20 participants per group)",
    )


class PlanForm(forms.Form):
    """The sample-size planner, with this study (as the page counts it) for the pilot."""

    subset = forms.ChoiceField(choices=[(subset, SUBSET_LABELS[subset]) for subset in SUBSETS])
    alternative = forms.ChoiceField(
        choices=[("", "the paper's for the subset"), *((a, a) for a in ALTERNATIVES)], required=False
    )
    alpha = forms.FloatField(min_value=0.0001, max_value=0.5, initial=0.05)
    power = forms.FloatField(min_value=0.05, max_value=0.99, initial=0.8, label="Target power")
    simulations = forms.IntegerField(min_value=10, max_value=5000, initial=1000, label="Simulations per n")
    max_n = forms.IntegerField(min_value=2, max_value=500, initial=100, label="Largest n per condition")
    seed = forms.IntegerField(min_value=0, initial=0)


def study_results_page(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study_or_404(slug)
    form = ResultsOptionsForm(request.GET or None)
    # The page offers only options that fit any study, so no AnalysisError can come back.
    analysis = study_results(study=study, options=_options(form))
    context = {
        **admin.site.each_context(request),
        "title": f"Results: {study.name}",
        "study": study,
        "form": form,
        **_report(analysis),
        **_items(analysis, study_question_images(study=study)),
        **_plan(request, analysis),
    }
    return render(request, "analysis/study_results.html", context)


def _study_or_404(slug: str) -> Study:
    try:
        return study_get(slug=slug)
    except AnalysisError as exc:
        raise Http404(exc.message) from exc


def _options(form: ResultsOptionsForm) -> AnalysisOptions:
    if not form.is_bound or not form.is_valid():
        return AnalysisOptions()  # the form shows its errors; the defaults still give a page
    return AnalysisOptions(
        min_answers=form.cleaned_data["min_answers"],
        continuity=form.cleaned_data["continuity"],
        p_method=form.cleaned_data["p_method"] or "auto",
        min_median_ms=form.cleaned_data["min_median_ms"],
        mixed_model=not form.cleaned_data["skip_mixed_model"],
    )


def _report(analysis: Analysis) -> dict[str, Any]:
    results = analysis.results
    return {
        "notices": results["messages"],
        "flow": report.flow_rows(results),
        "exclusions": report.exclusion_lines(results),
        "table1": report.table1_rows(results),
        "details": report.detail_rows(results),
        "tests": report.test_lines(results),
        "tests_heading": report.tests_heading(results),
        "continuity": results["options"]["continuity"],
        "omnibus": report.omnibus_lines(results) if report.shows_every_pair(results) else None,
        "pairwise": report.pairwise_rows(results) if report.shows_every_pair(results) else None,
        "mixed_model": results["mixed_model"],
        "mixed_model_lines": report.mixed_model_lines(results),
        "mixed_model_rows": report.mixed_model_rows(results),
        "dropout": report.dropout_rows(results),
        "questions": report.question_rows(results) if results["questions"] else None,
        "figures": [] if analysis.scores.empty else _figures(analysis),
    }


def _figures(analysis: Analysis) -> list[dict[str, str]]:
    figures = []
    for subset in SUBSETS:
        png = accuracy_histogram_png(analysis.scores, subset=subset, names=analysis.names)
        data = base64.b64encode(png).decode("ascii")
        figures.append({"label": SUBSET_LABELS[subset], "src": f"data:image/png;base64,{data}"})
    return figures


def _plan(request: HttpRequest, analysis: Analysis) -> dict[str, Any]:
    """The planner's form, and its plan once asked for (a bound, valid form)."""
    form = PlanForm(request.GET if "plan-subset" in request.GET else None, prefix="plan")
    kept = [(key, value) for key, value in request.GET.items() if not key.startswith("plan-")]
    context: dict[str, Any] = {"plan_form": form, "plan_kept": kept, "plan": None}
    if not form.is_bound or not form.is_valid():
        return context
    settings = PlanSettings(**{**form.cleaned_data, "alternative": form.cleaned_data["alternative"] or None})
    try:
        plan = plan_from_scores(analysis.scores, names=analysis.names, settings=settings, conditions=None)
    except AnalysisError as exc:
        return {**context, "plan_error": exc.message}
    png = base64.b64encode(power_curve_png(plan.plan, names=plan.names)).decode("ascii")
    return {
        **context,
        "plan": plan.plan,
        "plan_lines": report.plan_lines(plan.plan, plan.names),
        "plan_rows": report.plan_rows(plan.plan),
        "plan_figure": f"data:image/png;base64,{png}",
    }


def _items(analysis: Analysis, images: dict[str, str]) -> dict[str, Any]:
    """The item analysis table, each row with its question's input image."""
    header, *rows = report.item_rows(analysis.results)
    questions = [question["question"] for question in analysis.results["items"]["questions"]]
    items = [
        {"question": key, "image": images.get(key), "cells": row}
        for key, row in zip(questions, rows, strict=True)
    ]
    return {"item_header": header, "items": items}


# The larger figures come as images of their own, so the page is not held up or swollen by them.
FIGURE_FILES = {"flow": FLOW_FILENAME, "items": ITEMS_FILENAME}


def study_figure_png(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """One figure of the results page, for the same options as the page (its query string)."""
    if name not in FIGURE_FILES:
        raise Http404(f"No figure {name!r}.")
    study = _study_or_404(slug)
    options = replace(_options(ResultsOptionsForm(request.GET or None)), mixed_model=False)  # not drawn
    analysis = study_results(study=study, options=options)
    png = analysis_figures(analysis, which=[name])[FIGURE_FILES[name]]
    return HttpResponse(png, content_type="image/png")


# Staff also need leave to view participants: the file says what each of them answered.
@permission_required("survey.view_participant", raise_exception=True)
def study_responses_csv(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study_or_404(slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-responses.csv"'
    responses_write(study_responses(study=study), response)
    return response
