"""For cron: mark participants who went quiet for longer than their study's timeout as abandoned."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from survey.services.participants import participants_mark_abandoned


class Command(BaseCommand):
    help = "Mark in-progress participants not seen within the abandonment timeout as abandoned."

    def handle(self, *args: object, **options: object) -> None:
        marked = participants_mark_abandoned()
        self.stdout.write(f"Marked {marked} participant(s) as abandoned.")
