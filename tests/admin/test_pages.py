"""Every admin page renders for a superuser, and no changelist costs a query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.reconciliation import reconciliation_run
from tests.admin.conftest import admin_url, product_models
from tests.admin.scenarios import lifecycle

MODELS = product_models()

# Queries per changelist, session and user lookups included. Adding rows must not change them.
PINNED = {
    "alipay.Account": 6,
    "alipay.Entry": 6,
    "alipay.Transfer": 6,
    "claims.Claim": 7,
    "claims.Payout": 7,
    "claims.PriceDrop": 6,
    "claims.ReconciliationRun": 7,
    "core.AuditEvent": 9,
    "insurance.Coverage": 7,
    "insurance.InsuranceProduct": 7,
    "insurance.Insurer": 4,
    "insurance.Policy": 7,
    "insurance.Premium": 7,
    "orders.Address": 6,
    "orders.Campaign": 6,
    "orders.CampaignItem": 6,
    "orders.Order": 6,
    "orders.OrderLine": 6,
    "shops.CatalogProduct": 6,
    "shops.Coupon": 6,
    "shops.Listing": 6,
    "shops.PriceRecord": 6,
    "shops.Seller": 6,
    "shops.Shop": 6,
    "shops.Sku": 6,
}
# What a superuser may add here; everything else is made by services.
ADDABLE = {
    "shops.Seller",
    "shops.Shop",
    "shops.CatalogProduct",
    "shops.Listing",
    "insurance.Insurer",
    "insurance.InsuranceProduct",
}

by_label = pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)


@pytest.fixture
def populated(world):
    lifecycle(world, buyers=1)
    reconciliation_run(trigger="admin")
    return world


def test_it_registers_every_product_model():
    assert {m._meta.label for m in MODELS} == set(PINNED)


@by_label
def test_it_renders_every_changelist(admin_client, populated, model):
    response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@by_label
def test_it_searches_every_changelist(admin_client, populated, model):
    response = admin_client.get(admin_url(model, "changelist"), {"q": "1"})

    assert response.status_code == 200


@by_label
def test_it_renders_every_change_page(admin_client, populated, model):
    obj = model.objects.order_by("pk").first()

    response = admin_client.get(admin_url(model, "change", obj.pk))

    assert response.status_code == 200


@by_label
def test_it_offers_the_add_page_only_for_plain_records(admin_client, populated, model):
    response = admin_client.get(admin_url(model, "add"))

    assert response.status_code == (200 if model._meta.label in ADDABLE else 403)


@by_label
def test_it_never_offers_deletion(admin_client, populated, model):
    obj = model.objects.order_by("pk").first()

    assert admin_client.get(admin_url(model, "delete", obj.pk)).status_code == 403
    action_form = admin_client.get(admin_url(model, "changelist")).context["action_form"]
    actions = dict(action_form.fields["action"].choices) if action_form else {}
    assert "delete_selected" not in actions


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@by_label
def test_changelist_queries_do_not_grow_with_rows(admin_client, world, model, django_assert_max_num_queries):
    url = admin_url(model, "changelist")
    lifecycle(world, buyers=1)
    reconciliation_run(trigger="admin")
    admin_client.get(url)  # warm the per-process caches (content types, sessions)
    with django_assert_max_num_queries(PINNED[model._meta.label]):
        admin_client.get(url)
    few = _count_queries(admin_client, url)
    rows_before = model.objects.count()

    lifecycle(world, buyers=10)
    for _ in range(10):
        reconciliation_run(trigger="admin")

    assert model.objects.count() >= rows_before + 10
    with django_assert_max_num_queries(PINNED[model._meta.label]):
        admin_client.get(url)
    assert _count_queries(admin_client, url) == few
