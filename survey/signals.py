"""A new content version for a study whenever it or a row of its content is saved or deleted.

Server processes keep a study's content in memory under its version (survey.selectors.content). Every
write to that content goes through a model's save or delete (the admin, the bundle import, the services),
so these receivers see each one; a bulk write that bypasses them must call study_content_changed itself.
"""

from __future__ import annotations

import uuid

from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from survey.models import (
    Condition,
    ConditionExample,
    Explanation,
    ExtraExplanation,
    ExtraQuestion,
    Question,
    Study,
)

# Rows that belong to a study directly, and rows that belong to it through their condition.
OWNED_BY_STUDY = (Condition, Question, ExtraQuestion)
OWNED_BY_CONDITION = (ConditionExample, Explanation, ExtraExplanation)


def study_content_changed(*, study_id: int) -> None:
    Study.objects.filter(pk=study_id).update(content_version=uuid.uuid4())


def _study(sender: type[Model], instance: Study, **kwargs: object) -> None:
    study_content_changed(study_id=instance.pk)


def _by_study(sender: type[Model], instance: Model, **kwargs: object) -> None:
    study_content_changed(study_id=instance.study_id)


def _by_condition(sender: type[Model], instance: Model, **kwargs: object) -> None:
    Study.objects.filter(conditions=instance.condition_id).update(content_version=uuid.uuid4())


def connect() -> None:
    post_save.connect(_study, sender=Study, dispatch_uid="content-version:Study:save")
    for model in OWNED_BY_STUDY:
        post_save.connect(_by_study, sender=model, dispatch_uid=f"content-version:{model.__name__}:save")
        post_delete.connect(_by_study, sender=model, dispatch_uid=f"content-version:{model.__name__}:del")
    for model in OWNED_BY_CONDITION:
        post_save.connect(_by_condition, sender=model, dispatch_uid=f"content-version:{model.__name__}:save")
        post_delete.connect(_by_condition, sender=model, dispatch_uid=f"content-version:{model.__name__}:del")
