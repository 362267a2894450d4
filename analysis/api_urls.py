from __future__ import annotations

from django.urls import path

from analysis.api import StudyResultsApi

urlpatterns = [
    path("studies/<slug:slug>/results/", StudyResultsApi.as_view(), name="api-study-results"),
]
