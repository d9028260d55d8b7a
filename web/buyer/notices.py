"""The message centre (消息中心), the links its notices follow, and the 自动理赔 switch."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from claims.selectors import price_drops_for_buyer
from core.selectors import auto_claim_enabled
from core.services import preferences_update
from notices.selectors import notices_for, unread_count
from notices.services import notice_mark_read, notices_mark_all_read

PAGE_SIZE = 20


def unread_notices(request: HttpRequest) -> dict:
    """Context processor: the unread count in the navigation, read only where a page shows it."""
    user = getattr(request, "user", None)
    return {"unread_notices": lambda: unread_count(user) if user is not None else 0}


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notices_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "buyer/notices.html",
        {"page": page, "auto_claim": auto_claim_enabled(request.user), "section": "notices"},
    )


@login_required
@require_GET
def notice_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A notice's link, from the message centre or its e-mail: read it, then go where it points."""
    notice = get_object_or_404(notices_for(request.user), pk=pk)
    notice_mark_read(notice=notice, user=request.user)
    if notice.link and url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None):
        return redirect(notice.link)
    return redirect("notices:list")


@login_required
@require_POST
def notices_read_all(request: HttpRequest) -> HttpResponse:
    notices_mark_all_read(user=request.user)
    return redirect("notices:list")


@login_required
@require_GET
def drop_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A detected drop is shown on its order's page, beside 一键理赔."""
    drop = get_object_or_404(price_drops_for_buyer(request.user), pk=pk)
    line = drop.policy.order_line
    return redirect(f"{reverse('orders:detail', args=[line.order.number])}#insurance-{line.pk}")


@login_required
@require_POST
def auto_claim_switch(request: HttpRequest) -> HttpResponse:
    on = request.POST.get("auto_claim") == "on"
    preferences_update(user=request.user, auto_claim=on)
    messages.success(request, _("已开启自动理赔。") if on else _("已关闭自动理赔。"))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("notices:list")
