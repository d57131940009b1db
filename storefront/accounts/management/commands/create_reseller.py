"""manage.py create_reseller: a reseller organisation and its first user, idempotent by email."""

from django.core.management.base import BaseCommand

from storefront.accounts.models import Organization

from ._accounts import organization_user_upsert


class Command(BaseCommand):
    help = "Create or update a reseller organisation and its user (idempotent by email)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Reseller organisation name")
        parser.add_argument("--mpn-id", required=True, help="MPN ID (Microsoft Partner ID), digits")
        parser.add_argument("--email", required=True, help="The user's sign-in email")
        parser.add_argument("--password", required=True, help="The user's password")

    def handle(self, *args, name, mpn_id, email, password, **options):
        result = organization_user_upsert(
            kind=Organization.Kind.RESELLER, name=name, mpn_id=mpn_id, email=email, password=password
        )
        verb = "Created" if result.created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} reseller {result.organization.company_name} (MPN ID {result.organization.mpn_id}) "
                f"with user {result.user.email}."
            )
        )
