"""manage.py create_direct_customer: a direct-customer organisation and its user, idempotent by email."""

from django.core.management.base import BaseCommand

from storefront.accounts.models import Organization

from ._accounts import organization_user_upsert


class Command(BaseCommand):
    help = "Create or update a direct-customer organisation and its user (idempotent by email)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Direct customer's organisation name")
        parser.add_argument("--email", required=True, help="The user's sign-in email")
        parser.add_argument("--password", required=True, help="The user's password")

    def handle(self, *args, name, email, password, **options):
        result = organization_user_upsert(
            kind=Organization.Kind.DIRECT, name=name, email=email, password=password
        )
        verb = "Created" if result.created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} direct customer {result.organization.company_name} with user {result.user.email}."
            )
        )
