"""The insurer's reports: premiums against payouts to the fen per campaign, seller, platform and
insurer over a date range, review turnaround, each as CSV, each limited to the viewer's insurers."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, Payout
from claims.services import claim_review_approve, claim_review_reject
from insurance.models import Premium
from orders.services import order_refund
from tests.admin.scenarios import in_review, lifecycle
from tests.factories import InsurerFactory, UserFactory
from tests.tallies import refresh_tallies

LOSS = reverse("admin:claims_report_loss")
TURNAROUND = reverse("admin:claims_report_turnaround")


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
        row.policies,
        row.premiums_charged_fen,
        row.premiums_refunded_fen,
        row.premiums_net_fen,
        row.claims_paid,
        row.payouts_fen,
        row.clawbacks_fen,
        row.payouts_net_fen,
        row.loss_ratio_percent,
    )


def _report(client, **params) -> dict:
    response = client.get(LOSS, params)
    assert response.status_code == 200
    return {row.name: _figures(row) for row in response.context["rows"]}


ZHONGAN = (3, 717, 239, 478, 2, 2_000, 500, 1_500, "313.81%")
PINGAN = (1, 239, 0, 239, 1, 1_000, 0, 1_000, "418.41%")
ALL = (4, 956, 239, 717, 3, 3_000, 500, 2_500, "348.68%")


def test_it_reports_exact_fen_per_campaign_seller_platform_and_insurer(admin_client, book):
    world, a, b = book

    assert _report(admin_client, by="campaign") == {
        f"{world.campaign.name}(小米官方)": (1, 239, 239, 0, 0, 0, 0, 0, "—"),
        f"{a.name}(小米官方)": (2, 478, 0, 478, 2, 2_000, 500, 1_500, "313.81%"),
        f"{b.name}(小米官方)": PINGAN,
    }
    assert _report(admin_client, by="seller") == {"小米官方": ALL}
    assert _report(admin_client, by="platform") == {"天猫": ALL}
    assert _report(admin_client, by="insurer") == {"众安保险": ZHONGAN, "平安保险": PINGAN}
    response = admin_client.get(LOSS)  # by campaign unless told
    assert _figures(response.context["total"]) == ALL
    page = response.text
    assert "¥9.56" in page and "¥7.17" in page and "¥30.00" in page and "¥25.00" in page


def test_an_officer_sees_only_their_own_insurers_figures(book, officers):
    _world, _a, b = book

    assert _report(officers.b_client, by="insurer") == {"平安保险": PINGAN}
    assert _report(officers.b_client, by="campaign") == {f"{b.name}(小米官方)": PINGAN}
    assert _report(officers.b_client, by="seller") == {"小米官方": PINGAN}
    assert _report(officers.a_client, by="platform") == {"天猫": ZHONGAN}


def test_the_date_range_counts_money_on_the_day_it_moved(admin_client, book):
    world, a, _b = book
    forty_days_ago = timezone.now() - timedelta(days=40)
    Premium.objects.filter(policy__coverage__campaign_item__campaign=a).update(created_at=forty_days_ago)
    Payout.objects.filter(claim__policy__coverage__campaign_item__campaign=a).update(
        created_at=forty_days_ago
    )
    refresh_tallies(full=True)  # the rows were moved behind the audit log's back: rebuild all
    today = timezone.localdate()

    recent = _report(admin_client, by="insurer", first=today - timedelta(days=30), last=today)
    old = _report(
        admin_client, by="insurer", first=today - timedelta(days=41), last=today - timedelta(days=39)
    )

    assert recent == {"众安保险": (1, 239, 239, 0, 0, 0, 0, 0, "—"), "平安保险": PINGAN}
    assert old == {"众安保险": (2, 478, 0, 478, 2, 2_000, 500, 1_500, "313.81%")}
    assert _report(admin_client, by="insurer", last=today - timedelta(days=100)) == {}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"first": "2026-12-01", "last": "2026-11-01"}, "开始日期不能晚于结束日期。"),
        ({"first": "2026-13-01"}, "输入一个有效的日期。"),
        ({"by": "buyer"}, "选择一个有效的选项。"),
    ],
)
def test_a_bad_filter_is_refused_with_its_reason(admin_client, book, params, message):
    response = admin_client.get(LOSS, params)

    assert response.status_code == 400
    assert message in response.text
    assert response.context.get("rows") is None


@pytest.mark.parametrize(
    ("by", "header", "line"),
    [
        ("campaign", "聚划算活动", None),
        ("seller", "商家", ["小米官方", "4", "956", "239", "717", "3", "3000", "500", "2500", "3.4868"]),
        ("platform", "平台", ["天猫", "4", "956", "239", "717", "3", "3000", "500", "2500", "3.4868"]),
        ("insurer", "保险公司", ["平安保险", "1", "239", "0", "239", "1", "1000", "0", "1000", "4.1841"]),
    ],
)
def test_it_downloads_each_dimension_as_csv(admin_client, book, by, header, line):
    response = admin_client.get(LOSS, {"by": by, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="baojia-loss-{by}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        header,
        "收费保单",
        "保费收取(分)",
        "退保保费(分)",
        "净保费(分)",
        "赔付笔数",
        "赔付(分)",
        "追回(分)",
        "净赔付(分)",
        "赔付率",
    ]
    assert rows[-1] == ["合计", "4", "956", "239", "717", "3", "3000", "500", "2500", "3.4868"]
    if line:
        assert line in rows


def test_its_queries_do_not_grow_with_rows(admin_client, world, django_assert_max_num_queries):
    lifecycle(world, buyers=1)
    admin_client.get(LOSS)
    with CaptureQueriesContext(connection) as few, django_assert_max_num_queries(7):
        admin_client.get(LOSS)

    lifecycle(world, buyers=10)
    refresh_tallies()

    with CaptureQueriesContext(connection) as many, django_assert_max_num_queries(7):
        admin_client.get(LOSS, {"format": "csv"})
    assert len(many) == len(few)


# --- review turnaround ------------------------------------------------------------------------


def test_it_measures_how_long_claims_waited_for_each_reviewer(world, officers):
    claims = in_review(world, buyers=3)
    now = timezone.now()
    for claim, hours in zip(claims, (1, 3, 30), strict=True):
        Claim.objects.filter(pk=claim.pk).update(review_started_at=now - timedelta(hours=hours))
    claim_review_approve(claim=claims[0], staff=officers.a, reason="属实")
    claim_review_reject(claim=claims[1], staff=officers.a, reason="不符合")
    (waiting,) = in_review(world)

    response = officers.a_client.get(TURNAROUND)

    (row,) = response.context["rows"]
    assert (row.name, row.decided, row.approved, row.rejected) == ("officer_a", 2, 1, 1)
    assert row.cells[3:] == ["2.0", "3.0", "3.0"]  # median, 90th percentile and longest, in hours
    assert response.context["backlog"]["count"] == 2  # the 30-hour claim and the new one
    assert "当前有 2 笔理赔待人工审核" in response.text
    assert officers.b_client.get(TURNAROUND).context["rows"] == []  # none of 平安's claims
    lines = list(
        csv.reader(
            io.StringIO(officers.a_client.get(TURNAROUND, {"format": "csv"}).content.decode("utf-8-sig"))
        )
    )
    assert lines[1] == ["officer_a", "2", "1", "1", "2.0", "3.0", "3.0"]
    assert lines[-1][0] == "合计"


# --- who may read them ------------------------------------------------------------------------


def test_staff_reach_them_from_the_admin_index(admin_client, insurer_staff, platform_staff, db):
    for url in (LOSS, TURNAROUND):
        assert url in admin_client.get(reverse("admin:index")).text
        _carol, client = insurer_staff
        assert client.get(url).status_code == 200
        assert url in client.get(reverse("admin:index")).text
        # Premiums and payouts are the insurers' business, not the platform staff's.
        _pat, client = platform_staff
        assert client.get(url).status_code == 403
        assert url not in client.get(reverse("admin:index")).text


def test_they_are_for_staff_with_the_right_only(client, db):
    for url in (LOSS, TURNAROUND):
        client.logout()
        assert client.get(url).status_code == 302  # to the login page
        client.force_login(UserFactory(username="mallory", is_staff=True))
        assert client.get(url).status_code == 403
