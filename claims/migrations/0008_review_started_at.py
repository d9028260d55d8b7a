"""When a claim went to staff review: the queue waits from here, turnaround is measured from here.

Existing claims take it from the audit log: the time adjudication moved them to review.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Claim = apps.get_model("claims", "Claim")
    AuditEvent = apps.get_model("core", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    claim_type = ContentType.objects.filter(app_label="claims", model="claim").first()
    if claim_type is None:
        return  # a fresh database: no claims yet
    to_review = AuditEvent.objects.filter(
        content_type=claim_type, object_id=OuterRef("pk"), to_state="in_review"
    ).order_by("-created_at")
    Claim.objects.filter(pk__in=AuditEvent.objects.filter(content_type=claim_type, to_state="in_review").values(
        "object_id"
    )).update(review_started_at=Subquery(to_review.values("created_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("claims", "0007_price_drops"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="review_started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="转人工时间"),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["state", "review_started_at"], name="claim_state_review_started"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
