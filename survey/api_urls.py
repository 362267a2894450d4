from __future__ import annotations

from django.urls import path

from survey.api import AnswerSubmitApi, ParticipantNextApi, ParticipantStartApi

app_name = "survey_api"

urlpatterns = [
    path("studies/<slug:slug>/participants/", ParticipantStartApi.as_view(), name="participant-start"),
    path("participants/<token:token>/next/", ParticipantNextApi.as_view(), name="participant-next"),
    path("participants/<token:token>/answers/", AnswerSubmitApi.as_view(), name="answer-submit"),
]
