"""Who lands where after login, and the seller gate."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from shops.selectors import seller_of


def landing(request: HttpRequest) -> HttpResponse:
    """Each role's home: staff → admin, sellers → dashboard, everyone else → the storefront."""
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("admin:index")
    if seller_of(request.user) is not None:
        return redirect("insurance:dashboard")
    return redirect("orders:storefront")


def seller_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in first; then only a seller may pass, and ``request.seller`` is theirs."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seller = seller_of(request.user)
        if seller is None:
            raise PermissionDenied(_("只有商家可以访问商家后台。"))
        request.seller = seller
        return view(request, *args, **kwargs)

    return wrapper
