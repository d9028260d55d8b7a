"""The admin's changelists never count a whole table: at most ``cap`` rows, then "N+"."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim
from core.pagination import CappedCountPaginator
from insurance.models import Policy
from orders.models import Order
from tests.admin.conftest import admin_url
from tests.admin.scenarios import in_review, lifecycle

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Policy, Order, Claim])
def test_a_changelist_counts_at_most_the_cap(admin_client, world, model, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    lifecycle(world, buyers=5, extras=False)
    assert model.objects.count() > 3

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(admin_url(model, "changelist"))

    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all(re.search(r"LIMIT 4\b", sql) for sql in counts), counts
    assert response.context["cl"].result_count == 3
    assert re.search(r"\b3\+ ", response.text)


def test_a_short_list_shows_its_exact_count(admin_client, world):
    lifecycle(world, buyers=2, extras=False)
    response = admin_client.get(admin_url(Claim, "changelist"))
    assert response.context["cl"].result_count == 2
    assert "2+" not in response.text


def test_the_review_queue_costs_the_same_with_more_claims(admin_client, world):
    url = f"{admin_url(Claim, 'changelist')}?state=in_review"
    in_review(world, buyers=1)
    admin_client.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    in_review(world, buyers=4)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 5
    assert len(many) == len(few)
