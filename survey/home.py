"""The site's root, "View site" in the admin: staff see every study and its links, others a plain page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from survey.models import Study
from survey.selectors.studies import studies_condition_counts


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_active and request.user.is_staff):
        # Nothing about the studies here: a participant only ever needs the link they were given.
        return render(request, "survey/home.html", {"studies": None})
    studies = list(Study.objects.order_by("-created_at"))
    counts = studies_condition_counts(studies=studies)
    rows = [
        {
            "study": study,
            "survey_url": request.build_absolute_uri(reverse("survey:landing", kwargs={"slug": study.slug})),
            "admin_url": reverse("admin:survey_study_change", args=[study.pk]),
            "started": sum(c["started"] for c in counts[study.pk].values()),
            "completed": sum(c["completed"] for c in counts[study.pk].values()),
        }
        for study in studies
    ]
    return render(request, "survey/home.html", {"studies": rows})
