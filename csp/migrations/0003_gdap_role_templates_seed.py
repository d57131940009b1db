"""Seeds the distributor's GDAP role templates, least privilege first (Entra built-in role template ids)."""

from django.db import migrations

DIRECTORY_READERS = {
    "name": "Directory Readers",
    "role_definition_id": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
}
TEMPLATES = [
    {
        "name": "Helpdesk (least privilege)",
        "description": "Read the directory, open support requests and assign licenses.",
        "is_default": True,
        "roles": [
            DIRECTORY_READERS,
            {
                "name": "Service Support Administrator",
                "role_definition_id": "f023fd81-a637-4b56-95fd-791ac0226033",
            },
            {"name": "License Administrator", "role_definition_id": "4d6ac14f-3453-41d0-bef9-a3e0c569773a"},
        ],
    },
    {
        "name": "User administration",
        "description": "Create and manage users and groups, reset passwords of non-admins.",
        "is_default": False,
        "roles": [
            {"name": "User Administrator", "role_definition_id": "fe930be7-5e62-47db-91af-98c3a49a38b1"},
            DIRECTORY_READERS,
        ],
    },
]


def seed(apps, schema_editor):
    GdapRoleTemplate = apps.get_model("csp", "GdapRoleTemplate")
    for template in TEMPLATES:
        GdapRoleTemplate.objects.get_or_create(
            name=template["name"],
            defaults={
                "description": template["description"],
                "is_default": template["is_default"],
                "roles": template["roles"],
            },
        )


def unseed(apps, schema_editor):
    GdapRoleTemplate = apps.get_model("csp", "GdapRoleTemplate")
    GdapRoleTemplate.objects.filter(name__in=[t["name"] for t in TEMPLATES], requests__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("csp", "0002_gdap_and_webhooks")]

    operations = [migrations.RunPython(seed, unseed)]
