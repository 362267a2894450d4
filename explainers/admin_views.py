"""Building a study from models in the admin: the build form with its dry run, and a job's live progress.

RenderJobAdmin.get_urls mounts ``build_urls``. The work is the services': ``dry_run_create`` (queued to a
render worker) and ``render_job_create``; these views only check input and show what comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from explainers.methods import DEFAULT_METHODS, METHODS
from explainers.models import Checkpoint, RenderJob, SelectionDryRun
from explainers.services import RenderError, render_job_create, render_job_retry
from explainers.services.datasets import dataset_folder, dataset_folders, dataset_roots
from explainers.services.dry_runs import dry_run_create
from survey.rules import DIFFICULT_IGNORE, DIFFICULT_LABELS
from survey.services.selection_audit import SELECTION_COUNT_LABELS

REFRESH_SECONDS = 3


def build_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    def view(function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        return model_admin.admin_site.admin_view(partial(function, model_admin=model_admin))

    return [
        path("build/", view(study_build), name="explainers_renderjob_build"),
        path("dry-run/<int:pk>/", view(dry_run_state), name="explainers_renderjob_dry_run"),
        path("<int:pk>/progress/", view(job_progress_json), name="explainers_renderjob_progress"),
        path("<int:pk>/rerun/", view(job_rerun), name="explainers_renderjob_rerun"),
    ]


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(f"explainers.{permission}"):
        raise PermissionDenied


# The build form


class StudyBuildForm(forms.Form):
    slug = forms.SlugField(max_length=50, help_text="The new study's address: /s/&lt;slug&gt;/.")
    name = forms.CharField(max_length=200, required=False, help_text="Default: made from the slug.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown on the landing page."
    )
    classifier = forms.ModelChoiceField(Checkpoint.objects.filter(kind=Checkpoint.Kind.CLASSIFIER))
    decoder = forms.ModelChoiceField(Checkpoint.objects.filter(kind=Checkpoint.Kind.DECODER))
    dataset = forms.ChoiceField(help_text="PASCAL VOC folders found under the dataset roots.")
    split = forms.ChoiceField(help_text="The image list to pick the questions from.")
    n_correct = forms.IntegerField(min_value=0, initial=16, label="Questions the model gets right")
    n_wrong = forms.IntegerField(min_value=0, initial=14, label="Questions the model gets wrong")
    seed = forms.IntegerField(initial=0, help_text="Seeds the picks of questions and options.")
    methods = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        choices=[(key, f"{method.name} ({key})") for key, method in METHODS.items()],
        initial=list(DEFAULT_METHODS),
        help_text="One condition each, in this order.",
    )
    saliency = forms.ChoiceField(help_text="What makes the masks of every method.")
    difficult = forms.ChoiceField(
        choices=[
            (DIFFICULT_LABELS, "Objects marked difficult are labels (the authors' choice)"),
            (DIFFICULT_IGNORE, "Leave out classes seen only as difficult objects"),
        ]
    )
    allow_shortfall = forms.BooleanField(
        required=False, label="If the split lacks right or wrong images, fill from the other kind"
    )
    open_study = forms.BooleanField(required=False, label="Open the study to participants once rendered")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from explainers.nn.saliency import SALIENCY_METHODS  # torch: only once someone builds a study

        super().__init__(*args, **kwargs)
        self.folders = {str(folder.path): folder for folder in dataset_folders()}
        self.fields["dataset"].choices = [(key, folder.label) for key, folder in self.folders.items()]
        splits = sorted({split for folder in self.folders.values() for split in folder.splits})
        self.fields["split"].choices = [(split, split) for split in splits]
        self.fields["saliency"].choices = [(key, key) for key in SALIENCY_METHODS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        folder = self.folders.get(cleaned.get("dataset", ""))
        if folder is not None and cleaned.get("split") and cleaned["split"] not in folder.splits:
            self.add_error("split", f"{folder.label} has no such split; it has {', '.join(folder.splits)}.")
        if cleaned.get("n_correct", 1) + cleaned.get("n_wrong", 1) < 1:
            self.add_error("n_wrong", "Ask for at least one question.")
        return cleaned

    def stored(self) -> dict[str, Any]:
        """The cleaned form as plain JSON, to refill it after a dry run."""
        data = dict(self.cleaned_data)
        data["classifier"], data["decoder"] = data["classifier"].pk, data["decoder"].pk
        return data


def study_build(request: HttpRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    _require(request, "add_renderjob")
    dry_run = _dry_run(request.GET.get("dry_run", ""))
    if request.method == "POST":
        form = StudyBuildForm(request.POST)
        if form.is_valid():
            try:
                return _build_step(request, form)
            except ValueError as exc:  # RenderError, and the network and dataset checks' own errors
                form.add_error(None, str(exc))
    else:
        form = StudyBuildForm(initial=dry_run.build if dry_run else None)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": RenderJob._meta,
        "title": "Build a study from models",
        "form": form,
        "dataset_roots": dataset_roots(),
        "dry_run": dry_run,
        "dry_run_counts": _counts(dry_run),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return TemplateResponse(request, "admin/explainers/renderjob/build.html", context)


def _build_step(request: HttpRequest, form: StudyBuildForm) -> HttpResponse:
    data = form.cleaned_data
    folder = dataset_folder(path=data["dataset"])
    selection = {key: data[key] for key in ["split", "n_correct", "n_wrong", "seed", "difficult", "saliency"]}
    if "dry_run" in request.POST:
        dry_run = dry_run_create(
            classifier=data["classifier"],
            dataset_root=folder.path,
            allow_shortfall=data["allow_shortfall"],
            build=form.stored(),
            **selection,
        )
        return redirect(f"{reverse('admin:explainers_renderjob_build')}?dry_run={dry_run.pk}")
    job = render_job_create(
        slug=data["slug"],
        name=data["name"],
        description=data["description"],
        classifier=data["classifier"],
        decoder=data["decoder"],
        dataset_root=folder.path,
        methods=data["methods"],
        allow_shortfall=data["allow_shortfall"],
        open_study=data["open_study"],
        **selection,
    )
    messages.success(request, f"Render job {job.pk} for {job.slug} is queued. This page follows it.")
    return redirect("admin:explainers_renderjob_change", job.pk)


def _dry_run(value: str) -> SelectionDryRun | None:
    return SelectionDryRun.objects.filter(pk=value).first() if value.isdigit() else None


def _counts(dry_run: SelectionDryRun | None) -> list[tuple[str, object]]:
    if dry_run is None or not dry_run.audit:
        return []
    return [(label, dry_run.audit[key]) for key, label in SELECTION_COUNT_LABELS if key in dry_run.audit]


@require_GET
def dry_run_state(request: HttpRequest, pk: int, *, model_admin: admin.ModelAdmin) -> JsonResponse:
    _require(request, "view_renderjob")
    dry_run = get_object_or_404(SelectionDryRun, pk=pk)
    return JsonResponse({"status": dry_run.status, "finished": dry_run.is_finished, "error": dry_run.error})


# A job's progress


def job_progress(job: RenderJob) -> dict[str, Any]:
    """The job's state as its page shows it, as plain JSON."""
    study_url = reverse("admin:survey_study_change", args=[job.study_id]) if job.study_id else None
    return {
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "finished": job.is_finished,
        "error": job.error,
        "text": _progress_text(job),
        "study_url": study_url,
    }


def _progress_text(job: RenderJob) -> str:
    status = RenderJob.Status
    if job.status == status.PENDING:
        return "Waiting for a render worker to take the job."
    if job.status == status.RUNNING and not job.total:
        return "Picking the questions: the classifier runs over the whole split."
    if job.status == status.RUNNING:
        return f"Rendering: {job.done} of {job.total} images."
    if job.status == status.SUCCEEDED:
        return f"Done: all {job.total} images rendered."
    return f"Failed after {job.done} of {job.total} images rendered."


@require_GET
def job_progress_json(request: HttpRequest, pk: int, *, model_admin: admin.ModelAdmin) -> JsonResponse:
    _require(request, "view_renderjob")
    return JsonResponse(job_progress(get_object_or_404(RenderJob, pk=pk)))


@require_POST
def job_rerun(request: HttpRequest, pk: int, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    _require(request, "change_renderjob")
    job = get_object_or_404(RenderJob, pk=pk)
    try:
        render_job_retry(job=job)
    except RenderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Render job {job.pk} is queued again; what it rendered before is kept.")
    return redirect("admin:explainers_renderjob_change", job.pk)
