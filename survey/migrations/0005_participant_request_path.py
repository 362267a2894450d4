"""Participants keep how many items they answered; studies keep a version of their content."""

import uuid

from django.db import migrations, models
from django.db.models import Count, Q


def answered_count_fill(apps, schema_editor) -> None:
    """Study answers plus attention-check answers, as answer_submit counts them from now on."""
    Participant = apps.get_model("survey", "Participant")
    counted = Participant.objects.annotate(
        n_answers=Count("answers", distinct=True),
        n_checks=Count("extra_answers", filter=Q(extra_answers__question__role="attention"), distinct=True),
    )
    for participant in counted.iterator():
        Participant.objects.filter(pk=participant.pk).update(
            answered_count=participant.n_answers + participant.n_checks
        )


class Migration(migrations.Migration):
    dependencies = [
        ("survey", "0004_participant_validity"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="answered_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="study",
            name="content_version",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.RunPython(answered_count_fill, migrations.RunPython.noop),
    ]
