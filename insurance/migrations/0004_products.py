import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insurance', '0003_claimable_indexes'),
        ('orders', '0001_initial'),
        ('shops', '0003_catalog_category'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='InsuranceProduct',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=128, verbose_name='产品名称')),
                ('offered', models.BooleanField(default=True, help_text='停售后商家不能再选择;已开启的保价照常出单。', verbose_name='在售')),
                ('is_default', models.BooleanField(default=False, help_text='商家开启保价时预先选中。', verbose_name='默认产品')),
                ('window_days', models.PositiveSmallIntegerField(default=15, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(90)], verbose_name='保价天数')),
                ('per_claim_cap_fen', models.BigIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10000000000)], verbose_name='单次赔付上限(分)')),
                ('review_threshold_fen', models.BigIntegerField(blank=True, help_text='赔付金额超过此值的理赔转人工审核;留空则不按金额转人工。', null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10000000000)], verbose_name='人工审核阈值(分)')),
                ('seller_acceptance', models.CharField(choices=[('open', '所有商家(拒保名单除外)'), ('listed', '仅承保名单内的商家')], default='open', max_length=8, verbose_name='承保商家')),
                ('brief_price_minutes', models.PositiveIntegerField(default=120, help_text='举证价格在这段时间内恢复(改回原价或撤销优惠券)的理赔转人工审核。', validators=[django.core.validators.MinValueValidator(1)], verbose_name='短暂低价(分钟)')),
                ('shared_evidence_claims', models.PositiveSmallIntegerField(default=3, help_text='同一举证订单或成交价记录在下方时长内被这么多不同买家用于理赔时转人工审核。', validators=[django.core.validators.MinValueValidator(2)], verbose_name='同一举证的理赔数(笔)')),
                ('shared_evidence_hours', models.PositiveSmallIntegerField(default=24, validators=[django.core.validators.MinValueValidator(1)], verbose_name='同一举证统计时长(小时)')),
                ('burst_claims', models.PositiveSmallIntegerField(default=5, help_text='同一活动在下方时长内收到这么多笔活动开始后注册的账号的理赔时转人工审核。', validators=[django.core.validators.MinValueValidator(2)], verbose_name='新账号集中理赔(笔)')),
                ('burst_hours', models.PositiveSmallIntegerField(default=24, validators=[django.core.validators.MinValueValidator(1)], verbose_name='新账号集中统计时长(小时)')),
                ('steep_drop_bp', models.PositiveIntegerField(default=5000, help_text='举证价格比实付款低出这个比例(5000 = 一半)时转人工审核。', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10000)], verbose_name='大幅降价(万分之)')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
            ],
            options={
                'verbose_name': '保险产品',
                'verbose_name_plural': '保险产品',
                'ordering': ['insurer_id', '-is_default', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ProductRate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform', models.CharField(choices=[('taobao', '淘宝'), ('tmall', '天猫'), ('tmall_global', '天猫国际')], max_length=16, verbose_name='平台')),
                ('category', models.CharField(blank=True, default='', help_text='留空表示该平台所有类目。', max_length=64, verbose_name='类目')),
                ('rate_bp', models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10000)], verbose_name='保费费率(万分之)')),
            ],
            options={
                'verbose_name': '费率',
                'verbose_name_plural': '费率',
                'ordering': ['product_id', 'platform', 'category'],
            },
        ),
        migrations.CreateModel(
            name='SellerDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('accepted', models.BooleanField(help_text='不勾选即拒保该商家。', verbose_name='承保')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='备注')),
            ],
            options={
                'verbose_name': '商家承保决定',
                'verbose_name_plural': '商家承保决定',
            },
        ),
        migrations.AddField(
            model_name='policy',
            name='insurer',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='insurance.insurer'),
        ),
        migrations.AddField(
            model_name='policy',
            name='per_claim_cap_fen',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='单次赔付上限(分)'),
        ),
        migrations.AddField(
            model_name='policy',
            name='premium_rate_bp',
            field=models.PositiveIntegerField(null=True, verbose_name='保费费率(万分之)'),
        ),
        migrations.AddField(
            model_name='policy',
            name='review_threshold_fen',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='人工审核阈值(分)'),
        ),
        migrations.AddField(
            model_name='policy',
            name='risk_terms',
            field=models.JSONField(blank=True, default=dict, verbose_name='风控阈值'),
        ),
        migrations.AddField(
            model_name='policy',
            name='window_days',
            field=models.PositiveSmallIntegerField(null=True, verbose_name='保价天数'),
        ),
        migrations.AddField(
            model_name='insuranceproduct',
            name='insurer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='products', to='insurance.insurer'),
        ),
        migrations.AddField(
            model_name='coverage',
            name='product',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='coverages', to='insurance.insuranceproduct'),
        ),
        migrations.AddField(
            model_name='policy',
            name='product',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='insurance.insuranceproduct'),
        ),
        migrations.AddField(
            model_name='productrate',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rates', to='insurance.insuranceproduct'),
        ),
        migrations.AddField(
            model_name='sellerdecision',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='seller_decisions', to='insurance.insuranceproduct'),
        ),
        migrations.AddField(
            model_name='sellerdecision',
            name='seller',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shops.seller'),
        ),
        migrations.AddConstraint(
            model_name='insuranceproduct',
            constraint=models.UniqueConstraint(fields=('insurer', 'name'), name='product_name_per_insurer'),
        ),
        migrations.AddConstraint(
            model_name='insuranceproduct',
            constraint=models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('insurer',), name='product_one_default_per_insurer'),
        ),
        migrations.AddConstraint(
            model_name='insuranceproduct',
            constraint=models.CheckConstraint(condition=models.Q(('window_days__gte', 1), ('window_days__lte', 90)), name='product_window'),
        ),
        migrations.AddConstraint(
            model_name='insuranceproduct',
            constraint=models.CheckConstraint(condition=models.Q(('per_claim_cap_fen__isnull', True), ('per_claim_cap_fen__gt', 0), _connector='OR'), name='product_cap'),
        ),
        migrations.AddConstraint(
            model_name='insuranceproduct',
            constraint=models.CheckConstraint(condition=models.Q(('review_threshold_fen__isnull', True), ('review_threshold_fen__gte', 0), _connector='OR'), name='product_review_threshold'),
        ),
        migrations.AddConstraint(
            model_name='productrate',
            constraint=models.UniqueConstraint(fields=('product', 'platform', 'category'), name='rate_once_per_scope'),
        ),
        migrations.AddConstraint(
            model_name='productrate',
            constraint=models.CheckConstraint(condition=models.Q(('rate_bp__gte', 1), ('rate_bp__lte', 10000)), name='rate_range'),
        ),
        migrations.AddConstraint(
            model_name='sellerdecision',
            constraint=models.UniqueConstraint(fields=('product', 'seller'), name='decision_once_per_seller'),
        ),
    ]
