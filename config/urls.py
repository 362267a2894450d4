from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from survey.api import api_not_found
from survey.media import serve_media

# Errors raised outside a view: JSON under /api/, pages elsewhere; a database outage is a 503.
handler400 = "core.http.bad_request"
handler500 = "core.http.server_error"

urlpatterns = [
    path("admin/analysis/", include("analysis.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("survey.api_urls")),
    path("api/", include("analysis.api_urls")),
    re_path(r"^api/", api_not_found),
    path("", include("survey.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", serve_media, name="media"))
