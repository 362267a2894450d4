"""Staff pages, mounted under admin/analysis/ (before admin/ itself, so the admin does not claim them)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from analysis.admin_views import study_figure_png, study_responses_csv, study_results_page

urlpatterns = [
    path(
        "study/<slug:slug>/results/",
        admin.site.admin_view(study_results_page),
        name="analysis-study-results",
    ),
    path(
        "study/<slug:slug>/figures/<slug:name>.png",
        admin.site.admin_view(study_figure_png),
        name="analysis-study-figure",
    ),
    path(
        "study/<slug:slug>/responses.csv",
        admin.site.admin_view(study_responses_csv),
        name="analysis-study-responses",
    ),
]
