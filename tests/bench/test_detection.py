"""bench/detection.py at a tiny size, in-process on the test database: the two bare SQL baselines
and the product's detection find the same policies with a drop, and the incremental pass after
ordinary new prices adds none."""

import pytest

from bench import detection
from bench.registry import by_key
from claims.models import PriceDrop


@pytest.mark.django_db(transaction=True)
def test_bare_sql_and_detection_agree_on_which_policies_have_a_drop():
    seeded = detection.seed(policies=40, records=800, campaigns=2, noise_products=3)
    assert seeded["records"] == 800

    per_policy = detection.baseline()
    grouped = detection.baseline_grouped()
    found = detection.full()

    assert per_policy["policies"] == grouped["policies"] == 40
    # every second campaign's product sells below what its buyers paid, the other never does
    assert per_policy["with_drop"] == grouped["with_drop"] == found["drops"] == 20
    assert found["notices"] == 20

    again = detection.incremental(new=50)
    assert again["new_records"] == 50
    assert again["drops_added"] == 0
    assert PriceDrop.objects.count() == 20


def test_the_detection_scenario_is_registered_and_needs_postgresql():
    (scenario,) = by_key(["detection"])
    assert scenario.postgres_only
    assert scenario.runner == "bench.detection:scenario"
