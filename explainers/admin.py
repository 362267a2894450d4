"""Checkpoints (registered by path, checked on save) and render jobs (watched, and re-run when failed)."""

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

from explainers.models import Checkpoint, RenderJob, RenderQuestion
from explainers.services import RenderError, checkpoint_register, render_job_retry
from explainers.services.checkpoints import checkpoint_read


class CheckpointForm(forms.ModelForm):
    class Meta:
        model = Checkpoint
        fields = ["kind", "name", "path"]

    def clean(self) -> dict[str, Any]:
        """A new row must name a file that loads as its kind; the error names the file and what was wrong."""
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("kind") and cleaned.get("path"):
            try:
                checkpoint_read(kind=cleaned["kind"], path=Path(cleaned["path"]).expanduser())
            except ValueError as exc:  # CheckpointError and RenderError both are
                raise forms.ValidationError({"path": str(exc)}) from exc
        return cleaned


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    form = CheckpointForm
    list_display = ["__str__", "kind", "path", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "path", "sha256"]
    fields = ["kind", "name", "path", "sha256", "config", "metrics", "created_at"]
    readonly_fields = ["sha256", "config", "metrics", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Checkpoint | None = None) -> list[str]:
        # A recorded file is a fingerprint: only its name may change.
        return self.readonly_fields + (["kind", "path"] if obj is not None else [])

    def save_model(self, request: HttpRequest, obj: Checkpoint, form: object, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        # The form's clean() already loaded the file as its kind; the service fingerprints and records it.
        registered = checkpoint_register(kind=obj.kind, path=obj.path, name=obj.name)
        for field in ("pk", "path", "name", "sha256", "config", "metrics", "created_at"):
            setattr(obj, field, getattr(registered, field))


class RenderQuestionInline(admin.TabularInline):
    model = RenderQuestion
    fields = [
        "order", "key", "is_example", "prediction", "confidence", "model_correct", "labels", "options",
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
        "slug", "name", "description", "classifier", "decoder", "dataset_root", "split", "n_correct",
        "n_wrong", "allow_shortfall", "seed", "image_size", "chunk_size", "import_study", "open_study",
        "status", "progress", "error", "note", "output_dir", "study_link", "celery_task_id", "created_at",
        "started_at", "finished_at",
    ]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from `manage.py render_study`, which checks every input first

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
