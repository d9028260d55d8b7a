"""The staff groups of the admin, kept in code so every environment grants the same rights."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

INSURER_STAFF = "insurer_staff"
PLATFORM_STAFF = "platform_staff"

# The product's apps: staff of both groups may look at everything in them.
PRODUCT_APPS = ("core", "alipay", "shops", "orders", "insurance", "claims")
# Insurer staff decide claims through the admin's review actions, which need this permission;
# the claim's fields themselves are read-only in the admin.
INSURER_CHANGES = (("claims", "claim"),)
# Platform staff keep shops, catalog, campaigns and orders tidy. Their admins leave every state,
# schedule and money field read-only, and none of these apps holds a ledger row.
PLATFORM_CHANGE_APPS = ("shops", "orders")


def _view_all() -> Q:
    return Q(content_type__app_label__in=PRODUCT_APPS, codename__startswith="view_")


def _change(app_label: str, model: str) -> Q:
    return Q(content_type__app_label=app_label, codename=f"change_{model}")


def ensure_staff_groups() -> dict[str, Group]:
    """Create or update the "insurer_staff" and "platform_staff" groups. Safe to run again: each
    group ends up with exactly the permissions below, whatever it had before."""
    for label in PRODUCT_APPS:
        create_permissions(apps.get_app_config(label), verbosity=0)
    insurer = _view_all()
    for app_label, model in INSURER_CHANGES:
        insurer |= _change(app_label, model)
    platform = _view_all()
    for label in PLATFORM_CHANGE_APPS:
        for model in apps.get_app_config(label).get_models():
            platform |= _change(label, model._meta.model_name)
    groups = {}
    with transaction.atomic():
        for name, perms in ((INSURER_STAFF, insurer), (PLATFORM_STAFF, platform)):
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.set(Permission.objects.filter(perms))
            groups[name] = group
    return groups
