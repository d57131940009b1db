"""What csp tells the floor above, so that csp never writes storefront models itself."""

from django.dispatch import Signal

# A tenant authorization became verified; kwargs: authorization.
authorization_verified = Signal()

# A new-tenant order created the customer's tenant at Microsoft; kwargs: order, tenant_id, domain.
new_tenant_created = Signal()
