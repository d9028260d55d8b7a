"""The insurer's review desk at 1280 px, in a real browser: the queue of claims in review shows
every column a reviewer needs (claim, buyer, amount, why it is in review, waiting since) inside
the window, and a claim's page shows the two orders side by side, the signal with the values it
compared, and the decision buttons. Makes docs/screenshots/review-queue.png and review-claim.png."""

import pytest
from playwright.sync_api import Page, expect

from claims.models import ClaimState
from claims.services import claim_adjudicate, claim_file
from core.permissions import INSURER_STAFF, ensure_staff_groups
from shops.services import sku_price_change
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 1280
# The queue's columns a reviewer needs, by the class Django gives each header cell.
NEEDED = {
    "column-number": "理赔单号",
    "column-buyer_link": "买家",
    "column-compensation": "赔付金额",
    "column-review_summary": "转人工原因",
    "column-waiting_since": "等待自",
}


@pytest.fixture
def steep_drops(world, place_evidence):
    """Alice and Bob each claim a drop to ¥79.00 on a ¥159.00 purchase: more than half, so both
    wait for a person, with the steep-drop signal and its values."""
    from insurance.services import policy_windows_advance

    orders = [world.buy(), world.buy(world.bob)]
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=7_900)
    claims = []
    for buyer, order in zip((world.alice, world.bob), orders, strict=True):
        evidence = place_evidence(buyer)
        claim = claim_file(order_line=world.line(order), evidence_order_number=evidence.number, buyer=buyer)
        claims.append(claim_adjudicate(claim=claim))
    assert [c.state for c in claims] == [ClaimState.IN_REVIEW] * 2
    assert all(c.review_reasons == ["steep_drop"] for c in claims)
    return claims


@pytest.fixture
def officer(world):
    user = UserFactory(username="officer", is_staff=True)
    user.groups.add(ensure_staff_groups()[INSURER_STAFF])
    world.coverage.insurer.staff.add(user)
    return user


def inside_the_window(page: Page, selector: str, within: str | None = None) -> None:
    """The element lies inside the window, and inside ``within`` (a box that scrolls or clips)."""
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    right = WIDTH
    if within is not None:
        outer = page.locator(within).bounding_box()
        right = min(right, outer["x"] + outer["width"])
    assert box["x"] >= 0 and box["x"] + box["width"] <= right, f"{selector} is clipped: {box}, right {right}"


def test_the_review_desk_fits_1280_px(steep_drops, officer, live_server, page: Page, login, shot):
    page.set_viewport_size({"width": WIDTH, "height": 800})
    login(page, officer.username)

    page.goto(f"{live_server.url}/admin/claims/claim/?state=in_review")
    for css, title in NEEDED.items():
        expect(page.locator(f"#result_list thead th.{css}")).to_contain_text(title)
        inside_the_window(page, f"#result_list thead th.{css}", within="#changelist .results")
    for claim in steep_drops:
        row = page.locator("#result_list tbody tr", has_text=claim.number)
        expect(row).to_contain_text("降价幅度超过一半")
        expect(row).to_contain_text("¥80.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH  # nothing to scroll to
    results = "document.querySelector('#changelist .results')"
    assert page.evaluate(f"{results}.scrollWidth <= {results}.clientWidth")  # nor in the table
    shot(page, "review-queue")

    claim = steep_drops[0]
    page.goto(f"{live_server.url}/admin/claims/claim/{claim.pk}/change/")
    expect(page.locator(".field-orders_display")).to_contain_text(claim.evidence_order_number)
    expect(page.locator(".field-review_reasons_display")).to_contain_text("降价幅度超过一半")
    expect(page.locator(".field-review_reasons_display")).to_contain_text("¥79.00")
    expect(page.locator(".field-checks_display")).not_to_contain_text(
        "evidence_other_account"
    )  # no raw codes
    # The decision buttons sit right under the comparison, inside the window.
    table = page.locator(".field-orders_display table").bounding_box()
    for button in ("审核通过", "审核驳回"):
        expect(page.locator("[data-decide]").get_by_role("button", name=button)).to_be_visible()
        inside_the_window(page, f"[data-decide] button:has-text('{button}')")
        box = page.locator(f"[data-decide] button:has-text('{button}')").bounding_box()
        assert 0 <= box["y"] - (table["y"] + table["height"]) < 80, (box, table)
    shot(page, "review-claim")
