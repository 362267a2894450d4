from __future__ import annotations

from django.urls import path

from survey import views
from survey.home import home

app_name = "survey"

urlpatterns = [
    path("", home, name="home"),
    path("s/<slug:slug>/", views.landing, name="landing"),
    path("s/<slug:slug>/p/<token:token>/", views.resume, name="resume"),
    path("s/<slug:slug>/p/<token:token>/intro/", views.intro, name="intro"),
    path("s/<slug:slug>/p/<token:token>/question/", views.question, name="question"),
    path("s/<slug:slug>/p/<token:token>/done/", views.done, name="done"),
    path("s/<slug:slug>/p/<token:token>/leave/", views.leave, name="leave"),
]
