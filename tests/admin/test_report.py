"""The staff report: premiums against payouts, to the fen, per insurer, shop and campaign."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.services import order_refund
from tests.admin.scenarios import lifecycle
from tests.factories import InsurerFactory, UserFactory
from tests.tallies import refresh_tallies

REPORT = reverse("admin:insurance_policy_report")
# Session, user, then per insurer, shop and campaign the summed tallies and the named rows, and the total.
REPORT_QUERIES = 9


@pytest.fixture
def book(world):
    """Three campaigns of one Tmall shop, two insurers.

    - the world's campaign (众安): alice buys and is fully refunded before the window opens,
      so the premium of ¥2.39 is charged and refunded;
    - campaign A (众安): two buyers paid ¥10.00 each; the first is half refunded, so ¥5.00 of
      the payout is clawed back; premiums 2 × ¥2.39;
    - campaign B (平安): one buyer paid ¥10.00; premium ¥2.39.
    """
    order_refund(order=world.buy(), reason="buyer changed mind")
    a = lifecycle(world, buyers=2, extras=False).campaign
    pingan = InsurerFactory(code="pingan", name="平安保险")
    b = lifecycle(world, buyers=1, insurer=pingan, clawback=False, extras=False).campaign
    refresh_tallies()  # the report reads the summaries, as beat keeps them
    return world, a, b


def _figures(row) -> tuple:
    return (
        row.premiums_charged_fen,
        row.premiums_refunded_fen,
        row.premiums_net_fen,
        row.payouts_fen,
        row.clawbacks_fen,
        row.payouts_net_fen,
        row.loss_ratio_percent,
    )


def test_it_reports_exact_fen_per_insurer_shop_and_campaign(admin_client, book):
    world, a, b = book

    response = admin_client.get(REPORT)

    assert response.status_code == 200
    sections = {
        key: {row.name: _figures(row) for row in rows} for key, _label, rows in response.context["sections"]
    }
    assert sections["insurer"] == {
        "众安保险": (717, 239, 478, 2_000, 500, 1_500, "313.81%"),
        "平安保险": (239, 0, 239, 1_000, 0, 1_000, "418.41%"),
    }
    assert sections["shop"] == {"小米官方旗舰店(天猫)": (956, 239, 717, 3_000, 500, 2_500, "348.68%")}
    assert sections["campaign"] == {
        f"{world.campaign.name}(小米官方)": (239, 239, 0, 0, 0, 0, "—"),
        f"{a.name}(小米官方)": (478, 0, 478, 2_000, 500, 1_500, "313.81%"),
        f"{b.name}(小米官方)": (239, 0, 239, 1_000, 0, 1_000, "418.41%"),
    }
    assert _figures(response.context["total"]) == (956, 239, 717, 3_000, 500, 2_500, "348.68%")
    page = response.text
    assert "¥9.56" in page and "¥7.17" in page and "¥30.00" in page and "¥25.00" in page


def test_it_downloads_the_report_as_csv(admin_client, book):
    response = admin_client.get(REPORT, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="baojia-loss-report.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "维度",
        "名称",
        "保费收取(分)",
        "退保保费(分)",
        "净保费(分)",
        "赔付(分)",
        "追回(分)",
        "净赔付(分)",
        "赔付率",
    ]
    assert ["保险公司", "众安保险", "717", "239", "478", "2000", "500", "1500", "3.1381"] in rows
    assert ["保险公司", "平安保险", "239", "0", "239", "1000", "0", "1000", "4.1841"] in rows
    assert ["店铺", "小米官方旗舰店(天猫)", "956", "239", "717", "3000", "500", "2500", "3.4868"] in rows
    assert rows[-1] == ["合计", "合计", "956", "239", "717", "3000", "500", "2500", "3.4868"]
    assert len(rows) == 1 + 2 + 1 + 3 + 1


def test_its_queries_do_not_grow_with_rows(admin_client, world, django_assert_max_num_queries):
    lifecycle(world, buyers=1)
    refresh_tallies()
    admin_client.get(REPORT)
    with CaptureQueriesContext(connection) as few, django_assert_max_num_queries(REPORT_QUERIES):
        admin_client.get(REPORT)

    lifecycle(world, buyers=10)
    refresh_tallies()

    with CaptureQueriesContext(connection) as many, django_assert_max_num_queries(REPORT_QUERIES):
        admin_client.get(REPORT, {"format": "csv"})
    assert len(many) == len(few)


def test_staff_reach_it_from_the_admin_index(admin_client, insurer_staff, platform_staff, db):
    assert REPORT in admin_client.get(reverse("admin:index")).text
    for _user, client in (insurer_staff, platform_staff):
        assert client.get(REPORT).status_code == 200
        assert REPORT in client.get(reverse("admin:index")).text


def test_it_is_for_staff_with_the_right_only(client, db):
    assert client.get(REPORT).status_code == 302  # to the login page
    client.force_login(UserFactory(username="mallory", is_staff=True))
    assert client.get(REPORT).status_code == 403
