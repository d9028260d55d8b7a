"""The pages scenario (bench/pages.py, bench/pages_data.py) at a tiny size: every page answers
the sessions it makes, the admin's report pages are found, and the results say what was met."""

import pytest
from django.test import Client

from bench import pages, pages_data


@pytest.mark.django_db
def test_every_page_answers_its_user_and_counts_its_queries(tmp_path):
    prepared = pages_data.prepare(size=40, buyer_orders=10, targets=str(tmp_path / "pages"))
    found = prepared["pages"]
    expected = {key for key, _who, _path in pages_data.PAGES} | {key for key, _ in pages_data.admin_reports()}
    assert set(found) == expected
    assert "admin_insurance_policy_report" in found or any("report" in key for key in found)
    for key, page in found.items():
        assert page["status"] == 200, (key, page)
        assert page["queries"] > 0
        cookie, path = (tmp_path / f"pages.{key}").read_text().strip().split("\t")
        assert path == page["path"]
        assert Client(HTTP_COOKIE=cookie).get(path).status_code == 200, key
    assert found["order_detail"]["who"] == "buyer"
    assert found["admin_review_queue"]["path"].endswith("?state=in_review")
    assert prepared["buyer_orders"] == 10 and prepared["campaigns"] == 20
    assert prepared["settled"] > 0 and prepared["in_review"] > 0
    slowest = found["seller_overview"]["slowest_sql"]
    assert slowest and slowest[0]["seconds"] >= slowest[-1]["seconds"]
    assert found["seller_overview"]["sql_seconds"] <= found["seller_overview"]["seconds"]


def _phase(p95: float, errors: int = 0) -> dict:
    return {
        "latency": {"p50_ms": p95 / 2, "p95_ms": p95, "count": 10},
        "per_second": 5.0,
        "errors": errors,
        "error_samples": [],
    }


def _run(p95_one: float, p95_eight: float, status: int = 200) -> dict:
    return {
        "prepared": {"pages": {"p": {"path": "/p/", "status": status, "queries": 7}}},
        "loads": {"p": {1: _phase(p95_one), 8: _phase(p95_eight)}},
    }


def test_a_page_meets_its_goal_when_fast_at_every_size_and_flat():
    row = pages._page_result("p", {10: _run(100, 300), 1000: _run(110, 360)})
    assert row["met"] is True
    assert row["ratio"] == 1.2  # 360 / 300
    assert row["baseline"]["users_8_p95_ms"] == 300


def test_a_page_misses_its_goal_when_it_grows_or_is_slow_or_fails():
    assert pages._page_result("p", {10: _run(100, 300), 1000: _run(140, 390)})["met"] is False  # ×1.4
    assert pages._page_result("p", {10: _run(160, 300), 1000: _run(160, 300)})["met"] is False  # > 150 ms
    assert pages._page_result("p", {10: _run(100, 300), 1000: _run(100, 300, status=500)})["met"] is False
    slow = _run(100, 300)
    slow["loads"]["p"][8] = {"skipped": "too slow"}
    row = pages._page_result("p", {10: _run(100, 300), 1000: slow})
    assert (row["met"], row["ratio"]) == (False, 0.0)
