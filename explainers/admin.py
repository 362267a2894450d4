"""Checkpoints (uploaded or registered by path, checked on save) and render jobs (built, watched, re-run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from explainers.admin_views import build_urls
from explainers.methods import METHODS
from explainers.models import Checkpoint, RenderJob, RenderQuestion
from explainers.services import RenderError, checkpoint_register, render_job_retry
from explainers.services.checkpoint_uploads import checkpoint_root, checkpoint_upload
from explainers.services.checkpoints import checkpoint_read
from survey.admin.common import selection_table


class CheckpointForm(forms.ModelForm):
    upload = forms.FileField(
        required=False,
        label="Upload a file",
        help_text="A file from train_classifier or train_decoder; or give the path of one on the server.",
    )

    class Meta:
        model = Checkpoint
        fields = ["kind", "name", "path"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "path" in self.fields:
            self.fields["path"].required = False
            self.fields["upload"].help_text += f" Uploads are kept in {checkpoint_root()}."
        self.uploaded: Checkpoint | None = None

    def clean(self) -> dict[str, Any]:
        """A new row must be a file that loads as its kind; the error names the file and what was wrong."""
        cleaned = super().clean()
        if self.instance.pk is not None or not cleaned.get("kind"):
            return cleaned
        upload, path = cleaned.get("upload"), cleaned.get("path")
        if bool(upload) == bool(path):
            raise forms.ValidationError("Upload a checkpoint file or give the path of one, not both.")
        try:
            if upload:
                # Written and checked here, where a bad file can still be shown as this form's error.
                self.uploaded = checkpoint_upload(
                    kind=cleaned["kind"], chunks=upload.chunks(), filename=upload.name, name=cleaned["name"]
                )
            else:
                checkpoint_read(kind=cleaned["kind"], path=Path(path).expanduser())
        except ValueError as exc:  # CheckpointError and RenderError both are
            raise forms.ValidationError({"upload" if upload else "path": str(exc)}) from exc
        return cleaned


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    form = CheckpointForm
    list_display = ["__str__", "kind", "path", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "path", "sha256"]
    fields = ["kind", "name", "path", "sha256", "config", "metrics", "created_at"]
    readonly_fields = ["sha256", "config", "metrics", "created_at"]

    def get_fields(self, request: HttpRequest, obj: Checkpoint | None = None) -> list[str]:
        return ["kind", "name", "upload", "path"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Checkpoint | None = None) -> list[str]:
        # A recorded file is a fingerprint: only its name may change.
        return self.readonly_fields + (["kind", "path"] if obj is not None else [])

    def save_model(self, request: HttpRequest, obj: Checkpoint, form: CheckpointForm, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        # The form's clean() already loaded the file as its kind (or stored and registered the upload).
        registered = form.uploaded or checkpoint_register(kind=obj.kind, path=obj.path, name=obj.name)
        for field in ("pk", "path", "name", "sha256", "config", "metrics", "created_at"):
            setattr(obj, field, getattr(registered, field))


class RenderQuestionInline(admin.TabularInline):
    model = RenderQuestion
    fields = [
        "order", "key", "role", "prediction", "confidence", "model_correct", "labels", "options",
        "attempts", "rendered_by",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: RenderJob | None = None) -> bool:
        return False


@admin.register(RenderJob)
class RenderJobAdmin(admin.ModelAdmin):
    list_display = ["slug", "status", "progress", "study_link", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    inlines = [RenderQuestionInline]
    actions = ["rerun_failed"]
    readonly_fields = [
        "slug", "name", "description", "classifier", "decoder", "method_names", "saliency", "dataset_root",
        "split", "difficult", "n_correct", "n_wrong", "allow_shortfall", "seed", "image_size", "chunk_size",
        "import_study", "open_study", "status", "progress", "error", "note", "selection_summary",
        "output_dir", "study_link", "celery_task_id", "created_at", "started_at", "finished_at",
    ]  # fmt: skip
    fields = readonly_fields

    def get_urls(self) -> list:
        # Before the admin's own: its "<path:object_id>/" would take "build/" for a job's id.
        return [*build_urls(self), *super().get_urls()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from the build page or `manage.py render_study`, which check every input

    def has_change_permission(self, request: HttpRequest, obj: RenderJob | None = None) -> bool:
        return False  # a job is a record of what ran: shown, never edited (so its page has no Save buttons)

    @admin.display(description="methods (conditions, in order)")
    def method_names(self, job: RenderJob) -> str:
        return ", ".join(f"{METHODS[key].name} ({key})" if key in METHODS else key for key in job.methods)

    @admin.display(description="how the questions were selected")
    def selection_summary(self, job: RenderJob) -> SafeString | str:
        return selection_table(job.selection)

    @admin.display(description="study")
    def study_link(self, job: RenderJob) -> SafeString | str:
        if job.study is None:
            return "-"
        url = reverse("admin:survey_study_change", args=[job.study.pk])
        return format_html('<a href="{}">{}</a>', url, job.study.slug)

    @admin.action(description="Re-run the selected failed jobs (keeps what they rendered)")
    def rerun_failed(self, request: HttpRequest, queryset: QuerySet[RenderJob]) -> None:
        for job in queryset:
            try:
                render_job_retry(job=job)
            except RenderError as exc:
                self.message_user(request, f"{job.slug}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{job.slug}: queued again", messages.SUCCESS)
