"""Who may do what in the admin: insurer staff review claims; nobody edits the ledger."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from alipay.models import Account, Entry, Transfer
from claims.models import Claim, ClaimState, Payout
from core.models import AuditEvent
from core.permissions import INSURER_STAFF, PLATFORM_STAFF, ensure_staff_groups
from insurance.models import Policy, Premium
from orders.models import Campaign, CampaignState, Order, OrderLine
from shops.models import Listing
from tests.admin.conftest import admin_url
from tests.admin.scenarios import in_review, lifecycle
from tests.factories import CatalogProductFactory


def _codes(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def _views(*app_labels: str) -> set[str]:
    return {
        f"{label}.view_{model._meta.model_name}"
        for label in app_labels
        for model in apps.get_app_config(label).get_models()
    }


def test_insurer_staff_view_their_business_and_change_only_claims(staff_groups):
    expected = _views("shops", "orders", "insurance", "claims") - {"claims.view_reconciliationrun"}

    assert _codes(staff_groups[INSURER_STAFF]) == expected | {"claims.change_claim"}


def test_platform_staff_may_change_shops_and_orders_but_no_ledger_row(staff_groups):
    codes = _codes(staff_groups[PLATFORM_STAFF])

    changes = {c for c in codes if not c.split(".")[1].startswith("view_")}
    assert changes == {
        f"{label}.change_{model._meta.model_name}"
        for label in ("shops", "orders")
        for model in apps.get_app_config(label).get_models()
    }
    views = {c for c in codes if c.split(".")[1].startswith("view_")}
    # Claims, policies and premiums belong to insurers; the ledger and its reconciliation to the platform.
    assert views == _views("core", "alipay", "shops", "orders") | {"claims.view_reconciliationrun"}


def test_ensure_staff_groups_is_idempotent_and_repairs_drift(staff_groups):
    before = {name: _codes(group) for name, group in staff_groups.items()}
    staff_groups[INSURER_STAFF].permissions.add(Permission.objects.get(codename="delete_entry"))

    again = ensure_staff_groups()

    assert {name: _codes(group) for name, group in again.items()} == before
    assert Group.objects.filter(name__in=[INSURER_STAFF, PLATFORM_STAFF]).count() == 2


@pytest.mark.parametrize("model", [Payout, Premium, Order, OrderLine], ids=lambda m: m._meta.label)
def test_insurer_staff_cannot_add_or_change_payouts_premiums_or_orders(insurer_staff, world, model):
    _carol, client = insurer_staff
    lifecycle(world, buyers=1, extras=False)
    obj = model.objects.order_by("pk").first()

    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.post(admin_url(model, "add"), {}).status_code == 403
    assert client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert client.get(admin_url(model, "delete", obj.pk)).status_code == 403
    # She may still read it, on a page without save buttons.
    page = client.get(admin_url(model, "change", obj.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.text


@pytest.mark.parametrize("model", [Account, Transfer, Entry, AuditEvent], ids=lambda m: m._meta.label)
def test_insurer_staff_do_not_read_the_platforms_ledger_or_audit_log(insurer_staff, world, model):
    _carol, client = insurer_staff
    obj = model.objects.order_by("pk").first()

    assert client.get(admin_url(model, "changelist")).status_code == 403
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 403


def test_platform_staff_cannot_review_claims(platform_staff, world):
    _pat, client = platform_staff
    (claim,) = in_review(world)

    response = client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "approve_claims", "_selected_action": [claim.pk], "apply": "1", "reason": "属实。"},
    )

    assert response.status_code == 403  # claims are the insurers' business: not even listed
    claim.refresh_from_db()
    assert claim.state == ClaimState.IN_REVIEW
    assert client.post(admin_url(Claim, "change", claim.pk), {}).status_code == 403


def test_platform_staff_edits_plain_fields_and_never_state(platform_staff, world):
    _pat, client = platform_staff
    campaign = world.campaign
    starts_at = campaign.starts_at

    response = client.post(
        admin_url(Campaign, "change", campaign.pk),
        {
            "name": "聚划算 双11 预热",
            "exclusion_note": "双11订单不支持保价",
            "state": CampaignState.SETTLED,
            "excluded_from_claims": "on",
            "starts_at_0": "2000-01-01",
            "starts_at_1": "00:00:00",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.exclusion_note) == ("聚划算 双11 预热", "双11订单不支持保价")
    assert campaign.state == CampaignState.LIVE
    assert campaign.excluded_from_claims is False
    assert campaign.starts_at == starts_at


def test_nobody_changes_or_deletes_an_entry(admin_client, world):
    entry = Entry.objects.order_by("pk").first()
    amount, total = entry.amount_fen, Entry.objects.count()

    assert admin_client.get(admin_url(Entry, "add")).status_code == 403
    assert admin_client.post(admin_url(Entry, "change", entry.pk), {"amount_fen": 1}).status_code == 403
    assert admin_client.get(admin_url(Entry, "delete", entry.pk)).status_code == 403
    assert admin_client.post(admin_url(Entry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    response = admin_client.post(
        admin_url(Entry, "changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    assert response.status_code in (200, 302)
    entry.refresh_from_db()
    assert (entry.amount_fen, Entry.objects.count()) == (amount, total)


@pytest.mark.parametrize("model", [Policy, Order], ids=lambda m: m._meta.label)
def test_policy_and_order_pages_show_their_audit_history(admin_client, world, model):
    order = world.buy()
    obj = order if model is Order else order.lines.get().policy

    page = admin_client.get(admin_url(model, "change", obj.pk)).text

    expected = ["order_place", "order_pay", "order_confirm"] if model is Order else ["policy_issue"]
    assert all(action in page for action in expected)


def test_a_superuser_adds_plain_records_and_platform_staff_edits_them(admin_client, platform_staff, world):
    _pat, client = platform_staff
    product = CatalogProductFactory(name="小米手环 9 NFC")
    data = {"title": "小米手环 9 NFC 版", "shop": world.taobao.pk, "product": product.pk}

    assert client.get(admin_url(Listing, "add")).status_code == 403
    assert admin_client.post(admin_url(Listing, "add"), data).status_code == 302
    listing = Listing.objects.get(title="小米手环 9 NFC 版")
    assert (listing.shop, listing.product) == (world.taobao, product)

    response = client.post(
        admin_url(Listing, "change", listing.pk), {**data, "title": "新标题", "shop": world.tmall.pk}
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.title, listing.shop) == ("新标题", world.taobao)


def test_the_audit_history_reads_in_words_not_codes_or_dicts(admin_client, world):
    from claims.models import Claim
    from tests.admin.scenarios import in_review

    (claim,) = in_review(world)

    page = admin_client.get(admin_url(Claim, "change", claim.pk)).text
    history = page[page.index('class="baojia-audit"') :]

    assert "提交理赔申请" in history and "系统判责" in history  # the actions' labels
    assert "已提交 → 人工审核中" in history  # the states as the claim names them
    assert "{'" not in history and "<code>" not in history
