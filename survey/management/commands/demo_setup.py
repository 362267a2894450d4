from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from survey.demo import DEMO_RESEARCHER, demo_researcher_ensure, demo_study_ensure
from survey.services.bundles import BundleError
from survey.services.studies import StudyNotReady


class Command(BaseCommand):
    help = "Create (or keep) the open demo study and a demo researcher login, then print where to go."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="host the server listens on (for the URLs)")
        parser.add_argument(
            "--port", type=int, default=8000, help="port the server listens on (for the URLs)"
        )

    def handle(self, *args: object, host: str, port: int, **options: object) -> None:
        try:
            study, created = demo_study_ensure()
        except (BundleError, StudyNotReady) as exc:
            raise CommandError(f"The demo study could not be set up:\n{exc}") from exc
        researcher, new_login = demo_researcher_ensure()
        base = f"http://{host}:{port}"
        username, password = DEMO_RESEARCHER
        self.stdout.write(f"Demo study {study.slug!r}: {'created' if created else 'already there'}, open.")
        self.stdout.write(self.style.SUCCESS(f"Survey: {base}/s/{study.slug}/"))
        self.stdout.write(self.style.SUCCESS(f"Admin:  {base}/admin/"))
        if researcher is None:
            self.stdout.write("No demo login: DEBUG is off. Create one with `manage.py createsuperuser`.")
        elif new_login:
            self.stdout.write(f"Log in as {username} / {password} (just created).")
        else:
            self.stdout.write(f"Log in as {username} / {password} (existing account, unless you changed it).")
