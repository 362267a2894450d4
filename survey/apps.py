from __future__ import annotations

from django.apps import AppConfig
from django.urls import register_converter

from survey.converters import TokenConverter


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = "Survey"

    def ready(self) -> None:
        # Once, before any URLconf is read: `<token:...>` in survey.urls and survey.api_urls.
        register_converter(TokenConverter, "token")
        from survey import signals

        signals.connect()
