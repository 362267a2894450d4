from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.lazy_views import LazyView
from survey.api import api_not_found
from survey.media import serve_media


def _staff_page(dotted: str) -> LazyView:
    return LazyView(dotted, admin.site.admin_view)


# analysis.urls and analysis.api_urls, with views imported on first use: they load SciPy, Matplotlib and
# pandas, which the participant path never needs (see core.lazy_views).
analysis_pages = [
    path(
        "study/<slug:slug>/results/",
        _staff_page("analysis.admin_views.study_results_page"),
        name="analysis-study-results",
    ),
    path(
        "study/<slug:slug>/figures/<slug:name>.png",
        _staff_page("analysis.admin_views.study_figure_png"),
        name="analysis-study-figure",
    ),
    path(
        "study/<slug:slug>/responses.csv",
        _staff_page("analysis.admin_views.study_responses_csv"),
        name="analysis-study-responses",
    ),
]
analysis_api = [
    path(
        "studies/<slug:slug>/results/",
        LazyView("analysis.api.StudyResultsApi", lambda view: view.as_view()),
        name="api-study-results",
    ),
]

# Errors raised outside a view: JSON under /api/, pages elsewhere; a database outage is a 503.
handler400 = "core.http.bad_request"
handler500 = "core.http.server_error"

urlpatterns = [
    path("admin/analysis/", include(analysis_pages)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("survey.api_urls")),
    path("api/", include(analysis_api)),
    re_path(r"^api/", api_not_found),
    path("", include("survey.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", serve_media, name="media"))
