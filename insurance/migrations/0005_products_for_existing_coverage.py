"""Products for the coverages that existed before insurers published products.

Each insurer gets a default product with the terms a new coverage used to get (1% on every
platform, a 15-day window, no cap, no review threshold; the values of that time, frozen here).
A coverage whose seller had typed other terms gets a product of its own, withdrawn from sale, with
exactly those terms, so nothing changes for the policies it goes on issuing. Each policy copies
the terms of its coverage, set-based.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

PLATFORMS = ("taobao", "tmall", "tmall_global")
DEFAULT_TERMS = (100, 15, None, None)  # rate (万分之), window days, cap, review threshold


def _product(Product, Rate, *, insurer_id, name, terms, offered, is_default):
    rate, days, cap, threshold = terms
    product = Product.objects.create(
        insurer_id=insurer_id,
        name=name,
        offered=offered,
        is_default=is_default,
        window_days=days,
        per_claim_cap_fen=cap,
        review_threshold_fen=threshold,
    )
    Rate.objects.bulk_create(Rate(product=product, platform=p, category="", rate_bp=rate) for p in PLATFORMS)
    return product


def forwards(apps, schema_editor):
    Insurer = apps.get_model("insurance", "Insurer")
    Product = apps.get_model("insurance", "InsuranceProduct")
    Rate = apps.get_model("insurance", "ProductRate")
    Coverage = apps.get_model("insurance", "Coverage")
    Policy = apps.get_model("insurance", "Policy")
    products = {}
    for insurer in Insurer.objects.order_by("pk"):
        products[(insurer.pk, DEFAULT_TERMS)] = _product(
            Product, Rate, insurer_id=insurer.pk, name="价格保障保险", terms=DEFAULT_TERMS, offered=True, is_default=True
        )
    for coverage in Coverage.objects.order_by("pk"):
        terms = (coverage.premium_rate_bp, coverage.window_days, coverage.per_claim_cap_fen, coverage.review_threshold_fen)
        key = (coverage.insurer_id, terms)
        if key not in products:
            products[key] = _product(
                Product,
                Rate,
                insurer_id=coverage.insurer_id,
                name=f"价格保障保险(原条款 {len(products)})",
                terms=terms,
                offered=False,
                is_default=False,
            )
        Coverage.objects.filter(pk=coverage.pk).update(product=products[key])
    of_coverage = Coverage.objects.filter(pk=OuterRef("coverage_id"))
    Policy.objects.update(
        insurer_id=Subquery(of_coverage.values("insurer_id")[:1]),
        product_id=Subquery(of_coverage.values("product_id")[:1]),
        premium_rate_bp=Subquery(of_coverage.values("premium_rate_bp")[:1]),
        window_days=Subquery(of_coverage.values("window_days")[:1]),
        per_claim_cap_fen=Subquery(of_coverage.values("per_claim_cap_fen")[:1]),
        review_threshold_fen=Subquery(of_coverage.values("review_threshold_fen")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("insurance", "0004_products"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
