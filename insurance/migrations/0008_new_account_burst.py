"""The new-account burst thresholds get their signal's name and defaults high enough for a popular
campaign (20 claims within 1 hour). The old values were never read by any signal, so a product or
policy still at the old untouched defaults (5 within 24 hours) takes the new ones; a value an
insurer set on purpose is kept. Policies carry the same terms in ``risk_terms`` under the new keys."""

import django.core.validators
from django.db import migrations, models

OLD_DEFAULTS = (5, 24)
NEW_DEFAULTS = (20, 1)


def _renamed(terms: dict) -> dict:
    terms = dict(terms or {})
    claims, hours = terms.pop("burst_claims", None), terms.pop("burst_hours", None)
    if (claims, hours) == OLD_DEFAULTS:
        claims, hours = NEW_DEFAULTS
    if claims is not None:
        terms["new_account_burst_claims"] = claims
    if hours is not None:
        terms["new_account_burst_hours"] = hours
    return terms


def forwards(apps, schema_editor):
    Product = apps.get_model("insurance", "InsuranceProduct")
    Policy = apps.get_model("insurance", "Policy")
    claims, hours = OLD_DEFAULTS
    Product.objects.filter(new_account_burst_claims=claims, new_account_burst_hours=hours).update(
        new_account_burst_claims=NEW_DEFAULTS[0], new_account_burst_hours=NEW_DEFAULTS[1]
    )
    for policy in Policy.objects.filter(risk_terms__has_key="burst_claims").only("pk", "risk_terms").iterator():
        Policy.objects.filter(pk=policy.pk).update(risk_terms=_renamed(policy.risk_terms))


class Migration(migrations.Migration):
    dependencies = [("insurance", "0007_policy_number_unique")]

    operations = [
        migrations.RenameField("insuranceproduct", "burst_claims", "new_account_burst_claims"),
        migrations.RenameField("insuranceproduct", "burst_hours", "new_account_burst_hours"),
        migrations.AlterField(
            model_name="insuranceproduct",
            name="new_account_burst_claims",
            field=models.PositiveSmallIntegerField(
                default=20,
                help_text="同一活动在下方时长内收到这么多笔活动开始后注册的账号的理赔时转人工审核。",
                validators=[django.core.validators.MinValueValidator(2)],
                verbose_name="新账号集中理赔(笔)",
            ),
        ),
        migrations.AlterField(
            model_name="insuranceproduct",
            name="new_account_burst_hours",
            field=models.PositiveSmallIntegerField(
                default=1,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="新账号集中统计时长(小时)",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
