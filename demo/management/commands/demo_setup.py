from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from core.commands import application_errors
from demo.services import DEMO_RESEARCHER, demo_researcher_ensure, demo_study_ensure
from demo.training import BUDGETS


class Command(BaseCommand):
    help = (
        "Create (or keep) the open demo study and a demo researcher login, then print where to go. "
        "The study's explanations are rendered by small networks trained on synthetic pictures the first "
        "time (a few minutes on two CPU cores, with a bar per phase that says how long is left), or drawn "
        "with --drawn in seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="host the server listens on (for the URLs)")
        parser.add_argument(
            "--port", type=int, default=8000, help="port the server listens on (for the URLs)"
        )
        parser.add_argument(
            "--drawn",
            action="store_true",
            help="draw placeholder explanations instead of training networks (a second, no torch)",
        )
        parser.add_argument(
            "--budget",
            choices=list(BUDGETS),
            default="quick",
            help="how long the networks train: tiny (seconds, they learn next to nothing), quick (the "
            "default, a few minutes on two CPU cores) or full (far longer: meant for a GPU)",
        )
        parser.add_argument(
            "--work-dir",
            type=Path,
            default=None,
            help="where the trained demo networks and their dataset are kept (default var/demo-work)",
        )

    def handle(
        self,
        *args: object,
        host: str,
        port: int,
        drawn: bool,
        budget: str,
        work_dir: Path | None,
        **options: object,
    ) -> None:
        with application_errors("The demo study could not be set up:"):
            study, created = demo_study_ensure(drawn=drawn, budget=budget, work_dir=work_dir, log=self.say)
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

    def say(self, line: str) -> None:
        """Progress while the networks train: shown at once, since the first run takes a while."""
        self.stdout.write(line)
        self.stdout.flush()
