"""Every coverage has its product and every policy its own copy of the terms: the coverage's own
term columns go."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insurance', '0005_products_for_existing_coverage'),
    ]

    operations = [
        migrations.AlterField(
            model_name='coverage',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='coverages', to='insurance.insuranceproduct'),
        ),
        migrations.AlterField(
            model_name='policy',
            name='insurer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='insurance.insurer'),
        ),
        migrations.AlterField(
            model_name='policy',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='insurance.insuranceproduct'),
        ),
        migrations.AlterField(
            model_name='policy',
            name='premium_rate_bp',
            field=models.PositiveIntegerField(verbose_name='保费费率(万分之)'),
        ),
        migrations.AlterField(
            model_name='policy',
            name='window_days',
            field=models.PositiveSmallIntegerField(verbose_name='保价天数'),
        ),
        migrations.RemoveConstraint(
            model_name='coverage',
            name='coverage_rate_range',
        ),
        migrations.RemoveConstraint(
            model_name='coverage',
            name='coverage_window',
        ),
        migrations.RemoveConstraint(
            model_name='coverage',
            name='coverage_cap',
        ),
        migrations.RemoveConstraint(
            model_name='coverage',
            name='coverage_review_threshold',
        ),
        migrations.RemoveField(
            model_name='coverage',
            name='insurer',
        ),
        migrations.RemoveField(
            model_name='coverage',
            name='per_claim_cap_fen',
        ),
        migrations.RemoveField(
            model_name='coverage',
            name='premium_rate_bp',
        ),
        migrations.RemoveField(
            model_name='coverage',
            name='review_threshold_fen',
        ),
        migrations.RemoveField(
            model_name='coverage',
            name='window_days',
        ),
        migrations.AddConstraint(
            model_name='policy',
            constraint=models.CheckConstraint(condition=models.Q(('premium_rate_bp__gte', 1), ('premium_rate_bp__lte', 10000), ('window_days__gte', 1), ('window_days__lte', 90)), name='policy_terms'),
        ),
        migrations.AddConstraint(
            model_name='policy',
            constraint=models.CheckConstraint(condition=models.Q(('per_claim_cap_fen__isnull', True), ('per_claim_cap_fen__gt', 0), _connector='OR'), name='policy_cap'),
        ),
    ]
