from __future__ import annotations

from django.urls import path

from survey import views
from survey.home import home

app_name = "survey"

# Each step's path under a participant's link (/s/<slug>/p/<token>/...) and a preview's.
STEP_PATHS = {
    "resume": "",
    "intro": "intro/",
    "comprehension": "comprehension/",
    "practice": "practice/",
    "feedback": "practice/feedback/",
    "question": "question/",
    "help": "help/",
    "done": "done/",
    "leave": "leave/",
}

urlpatterns = [
    path("", home, name="home"),
    path("s/<slug:slug>/", views.landing, name="landing"),
    path("s/<slug:slug>/preview/<slug:condition>/", views.preview, name="preview"),
    *(
        path(f"s/<slug:slug>/p/<token:token>/{tail}", views.participant_pages[name], name=name)
        for name, tail in STEP_PATHS.items()
    ),
    *(
        path(
            f"s/<slug:slug>/preview/<slug:condition>/{tail or 'resume/'}",
            views.preview_pages[name],
            name=f"preview-{name}",
        )
        for name, tail in STEP_PATHS.items()
    ),
]
