"""The admin's forms: each judges a study's or a question's edits by the rules opening a study applies."""

from __future__ import annotations

import copy
import json

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet

from survey.models import Condition, Question, Study
from survey.services.studies import comprehension_problems, question_problems, study_readiness_problems


def _urls_assume_https(field: models.Field, **kwargs: object) -> forms.Field | None:
    # Django 6 makes https the default for scheme-less URLs; choose it now rather than warn.
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ClassListField(forms.CharField):
    """The study's classes, one per line (or comma-separated), instead of a JSON list to type by hand."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 40})

    def prepare_value(self, value: object) -> object:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: object) -> list[str]:
        text = super().to_python(value).strip()
        if text.startswith("["):  # a JSON list, as the field took before, is still understood
            try:
                return [str(name).strip() for name in json.loads(text) if str(name).strip()]
            except (ValueError, TypeError) as exc:
                raise ValidationError("Give one class per line.") from exc
        return [name.strip() for name in text.replace(",", "\n").splitlines() if name.strip()]

    def validate(self, value: list[str]) -> None:
        if not value:
            raise ValidationError("The study needs at least one class.")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValidationError(f"{', '.join(repeated)} is listed more than once.")


class StudyAdminForm(forms.ModelForm):
    classes = ClassListField(help_text="Every class label the study may show, one per line.")

    class Meta:
        model = Study
        formfield_callback = _urls_assume_https
        fields = [
            "name", "slug", "status", "description", "completion_code", "completion_redirect_url",
            "unique_completion_codes", "assignment_policy", "classes", "class_names", "abandon_after_minutes",
            "expected_minutes", "attention_allowance",
        ]  # fmt: skip

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if "attention_allowance" in self.fields:  # empty means none allowed; left out, it stays as it was
            self.fields["attention_allowance"].required = False

    def clean_class_names(self) -> dict:
        names = self.cleaned_data.get("class_names") or {}
        if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip() for v in names.values()):
            raise ValidationError('Give the display names as a JSON object: {"diningtable": "dining table"}.')
        return names

    def clean_attention_allowance(self) -> int:
        return self.cleaned_data.get("attention_allowance") or 0

    def clean(self) -> dict:
        cleaned = super().clean()
        status = cleaned.get("status")
        if status in {Study.Status.OPEN, Study.Status.PILOT}:
            # The saved conditions and questions, judged with this form's edits; conditions edited inline
            # in the same save are judged again once saved (StudyAdmin.save_related).
            candidate = copy.copy(self.instance)
            for name in ["classes", "completion_code", "completion_redirect_url", "unique_completion_codes"]:
                if name in cleaned:
                    setattr(candidate, name, cleaned[name])
            problems = study_readiness_problems(study=candidate)
            verb = "open" if status == Study.Status.OPEN else "start its pilot"
            if problems:
                self.add_error("status", [f"The study cannot {verb} yet: {problem}." for problem in problems])
        if status == Study.Status.PILOT and self.instance.pk and self._has_real_participants():
            self.add_error("status", "Real participants have started: the study cannot go back to a pilot.")
        names = cleaned.get("class_names") or {}
        unknown = sorted(set(names) - set(cleaned.get("classes") or self.instance.classes or []))
        if unknown:
            self.add_error("class_names", f"Not classes of this study: {', '.join(unknown)}.")
        return cleaned

    def _has_real_participants(self) -> bool:
        return self.instance.participants.filter(is_pilot=False).exists()


class ConditionAdminForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = ["study", "key", "name", "intro", "comprehension", "order"]

    def clean_comprehension(self) -> list:
        items = self.cleaned_data.get("comprehension") or []
        problems = comprehension_problems(where="comprehension", items=items)
        if problems:
            raise ValidationError(problems)
        return items


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["study", "key", "order", "image", "labels", "prediction", "model_correct", "options"]

    def clean(self) -> dict:
        cleaned = super().clean()
        study, options, labels = cleaned.get("study"), cleaned.get("options"), cleaned.get("labels")
        if study is None or not isinstance(options, list) or not isinstance(labels, list):
            if options is not None and not isinstance(options, list):
                self.add_error("options", "Give the options as a JSON list of class names.")
            if labels is not None and not isinstance(labels, list):
                self.add_error("labels", "Give the labels as a JSON list of class names.")
            return cleaned
        problems = question_problems(
            where=f"question {cleaned.get('key', '')}",
            options=options,
            labels=labels,
            prediction=cleaned.get("prediction", ""),
            model_correct=cleaned.get("model_correct"),
            classes=study.classes,
        )
        if problems:
            raise ValidationError(problems)
        return cleaned


class ExplanationFormSet(BaseInlineFormSet):
    """Offers the conditions of the question's own study only (all studies' until one is chosen)."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "condition" not in form.fields:
            return
        conditions = Condition.objects.select_related("study")
        if self.instance.study_id:
            conditions = conditions.filter(study_id=self.instance.study_id)
        form.fields["condition"].queryset = conditions
        form.fields["condition"].label_from_instance = lambda c: f"{c.study.slug} · {c.key}"
