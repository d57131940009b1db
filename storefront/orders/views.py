"""Order history and the live order page, scoped to the buyer's organisation."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing import selectors
from csp import connect


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = selectors.orders_for(organization_id=request.user.organization_id)
    return render(request, "orders/list.html", {"orders": orders})


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """The order page; a new tenant's admin login is shown here once, then forgotten."""
    order = selectors.order_get(organization_id=request.user.organization_id, order_id=order_id)
    admin_login = selectors.order_admin_login_reveal(order=order)
    context = {"order": order, "admin_login": admin_login, "ordering_paused": _ordering_paused(order)}
    return render(request, "orders/detail.html", context)


def _ordering_paused(order) -> bool:
    """An order waiting because our own connection to Microsoft is paused, not because Microsoft is silent."""
    return order.waiting_on_microsoft and not connect.partner_center_connected()


@login_required
def order_progress(request: HttpRequest, order_id: int) -> HttpResponse:
    """htmx polling while Microsoft provisions the order."""
    order = selectors.order_get(organization_id=request.user.organization_id, order_id=order_id)
    waiting = "1" if order.waiting_on_microsoft else "0"
    if request.GET.get("status") == order.status and request.GET.get("waiting", waiting) == waiting:
        return HttpResponse(status=204)
    admin_login = selectors.order_admin_login_reveal(order=order)
    # Once finished, the lines are sent along (out of band) with their subscriptions: no reload, which would
    # lose the new tenant's administrator password shown only once.
    context = {
        "order": order,
        "admin_login": admin_login,
        "oob": True,
        "ordering_paused": _ordering_paused(order),
    }
    return render(request, "orders/_progress.html", context)
