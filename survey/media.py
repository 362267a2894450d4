"""Serve uploaded media (study images) with long cache headers.

Media files are written once under content-addressed names and never change, so browsers may
keep them; nothing is decoded per request.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.static import serve

ONE_YEAR = 365 * 24 * 3600


def serve_media(request: HttpRequest, path: str) -> HttpResponse:
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    patch_cache_control(response, public=True, max_age=ONE_YEAR, immutable=True)
    return response
