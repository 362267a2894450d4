"""Conditions on their own page, where their examples are edited."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from survey.admin.common import FrozenStructureInline, editable_studies, frozen, thumb
from survey.admin.forms import ConditionAdminForm
from survey.models import Condition, ConditionExample


class ConditionExampleInline(FrozenStructureInline):
    model = ConditionExample
    fields = ["order", "image", "preview", "caption"]
    readonly_fields = ["preview"]

    @admin.display(description="preview")
    def preview(self, example: ConditionExample) -> SafeString:
        return thumb(example.image, example.caption or "example")


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    form = ConditionAdminForm
    list_display = ["key", "name", "study", "order", "preview_link"]
    list_filter = ["study"]
    list_select_related = ["study"]
    inlines = [ConditionExampleInline]

    @admin.display(description="preview")
    def preview_link(self, condition: Condition) -> SafeString:
        url = reverse("survey:preview", kwargs={"slug": condition.study.slug, "condition": condition.key})
        return format_html('<a href="{}" target="_blank">Take it as a participant</a>', url)

    def has_change_permission(self, request: HttpRequest, obj: Condition | None = None) -> bool:
        return super().has_change_permission(request, obj) and not frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Condition | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not frozen(request, obj)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object) -> forms.Field:
        if db_field.name == "study":
            kwargs["queryset"] = editable_studies()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
