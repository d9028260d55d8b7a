"""Every string of the web templates is translatable, and English pages carry no Chinese."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
TEMPLATES = Path(settings.BASE_DIR, "templates")
TRANSLATED = [
    re.compile(r"\{%\s*blocktranslate\b.*?%\}.*?\{%\s*endblocktranslate\s*%\}", re.S),
    re.compile(r"\{%\s*translate\s+(\"[^\"]*\"|'[^']*').*?%\}", re.S),
    re.compile(r"\{#.*?#\}", re.S),
]


def web_templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*.html") if "admin" not in p.relative_to(TEMPLATES).parts)


@pytest.mark.parametrize("path", web_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_untranslated_chinese(path):
    text = path.read_text()
    for pattern in TRANSLATED:
        text = pattern.sub("", text)
    # Language names are shown in their own language on the switch, by convention.
    text = text.replace("中文", "")
    leftovers = [line.strip() for line in text.splitlines() if CJK.search(line)]
    assert leftovers == []


english = Path(settings.BASE_DIR, "locale", "en", "LC_MESSAGES", "django.mo")


@pytest.mark.skipif(not english.exists(), reason="no English catalog yet (locale/en/LC_MESSAGES/django.mo)")
@pytest.mark.django_db
def test_english_pages_show_no_chinese_ui_text():
    """With data named in English, an English page has no Chinese left: all of it was UI text."""
    from alipay.services import balance_top_up
    from insurance.services import coverage_turn_on, deposit_top_up
    from orders.services import order_pay, order_place
    from shops.models import Platform
    from tests.factories import (
        AddressFactory,
        CampaignFactory,
        CampaignItemFactory,
        CatalogProductFactory,
        InsuranceProductFactory,
        InsurerFactory,
        ListingFactory,
        SellerFactory,
        ShopFactory,
        SkuFactory,
        UserFactory,
    )

    seller = SellerFactory(name="Acme", user__username="acme")
    shop = ShopFactory(seller=seller, name="Acme Store", platform=Platform.TMALL)
    product = CatalogProductFactory(brand="Acme", model="X1", name="Acme X1")
    sku = SkuFactory(
        listing=ListingFactory(shop=shop, product=product, title="Acme X1"), specs={"color": "black"}
    )
    campaign = CampaignFactory(
        seller=seller, name="Flash sale", ends_at=timezone.now() + timezone.timedelta(days=1)
    )
    item = CampaignItemFactory(campaign=campaign, sku=sku)
    deposit_top_up(seller=seller, amount_fen=1_000_000, key="en-deposit")
    terms = InsuranceProductFactory(
        insurer=InsurerFactory(code="ins", name="Insurer"), name="Price protection"
    )
    coverage_turn_on(campaign_item=item, seller=seller, product=terms)
    buyer = UserFactory(username="ann")
    address = AddressFactory(user=buyer, recipient="Ann", region="Hangzhou", detail="1 West Road")
    # A top-up's statement line shows its stored memo; an insured order shows the 保险服务 panel.
    balance_top_up(user=buyer, amount_fen=100_000, key="en-top-up")
    order = order_place(buyer=buyer, address=address, items=[(sku, 1)])
    order_pay(order=order, buyer=buyer)
    pages = {
        buyer: [
            reverse("orders:storefront"),
            reverse("orders:campaign", args=[campaign.pk]),
            reverse("orders:listing", args=[sku.listing.pk]),
            f"{reverse('orders:checkout')}?sku={sku.pk}",
            reverse("orders:mine"),
            reverse("orders:detail", args=[order.number]),
            reverse("alipay:balance"),
        ],
        seller.user: [
            reverse("insurance:dashboard"),
            reverse("insurance:campaigns"),
            reverse("shops:catalog"),
            reverse("orders:seller_orders"),
            reverse("claims:seller_claims"),
            f"{reverse('alipay:balance')}?account=deposit",
        ],
    }
    for user, urls in pages.items():
        client = Client()
        client.force_login(user)
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            page = response.content.decode()
            page = re.sub(r"<button[^>]*lang=\"zh-hans\"[^>]*>.*?</button>", "", page, flags=re.S)
            assert CJK.findall(page) == [], url
