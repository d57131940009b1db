"""A reseller's default MPN ID is always one of its own MPN IDs (the trust boundary's list)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from csp import trust
from storefront.accounts.models import Organization


@receiver(post_save, sender=Organization, dispatch_uid="organization-default-mpn-id-is-owned")
def default_mpn_id_owned(sender, instance: Organization, **kwargs) -> None:
    if instance.kind == Organization.Kind.RESELLER and instance.mpn_id.strip().isdigit():
        trust.mpn_id_attach(organization_id=instance.pk, mpn_id=instance.mpn_id)
