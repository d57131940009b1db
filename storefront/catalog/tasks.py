"""Celery tasks of the catalog: when to read Microsoft's price list (the service decides what changes)."""

from celery import shared_task


@shared_task
def price_lists_refresh() -> list[str]:
    """Daily (and on the 1st): each market's price list, skipped when the file has not changed."""
    from storefront.catalog.pricelist import price_lists_refresh as refresh

    return [f"{run.market} {run.timeline}: {run.status}" for run in refresh()]
