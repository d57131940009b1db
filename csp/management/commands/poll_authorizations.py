"""`python manage.py poll_authorizations`: one polling pass now, with what it did and what it cost."""

from django.core.management.base import BaseCommand

from csp import polling


class Command(BaseCommand):
    help = "Runs one polling pass over the due pending tenant authorizations and prints the report."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=polling.DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--all", action="store_true", help="Check every pending authorization, not only the due ones."
        )

    def handle(self, *args, batch_size: int, all: bool, **options):
        report = polling.authorizations_poll_pass(batch_size=batch_size, due_only=not all)
        self.stdout.write(
            f"checked {report.checked} (claimed {report.claimed}, resolved {report.resolved}), "
            f"verified {report.verified}, backed off {report.backed_off}, expired {report.expired}, "
            f"customer pages {report.customer_pages}, partner center calls {report.partner_center_calls}, "
            f"errors {report.errors}"
        )
