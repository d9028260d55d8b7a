"""The staff groups of the admin, kept in code so every environment grants the same rights."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

INSURER_STAFF = "insurer_staff"
PLATFORM_STAFF = "platform_staff"

# The product's apps.
PRODUCT_APPS = ("core", "alipay", "shops", "orders", "insurance", "claims")
# Insurer staff read the shops, campaigns and orders a claim is about, and the insurance and
# claims of the insurers they belong to (the admin fences those rows by insurer). The platform's
# ledger, audit log and reconciliation runs are not theirs to read.
INSURER_VIEW_APPS = ("shops", "orders", "insurance", "claims")
INSURER_HIDDEN = (("claims", "reconciliationrun"),)
# Insurer staff decide claims through the admin's review actions, which need this permission;
# the claim's fields themselves are read-only in the admin.
INSURER_CHANGES = (("claims", "claim"),)
# Platform staff keep shops, catalog, campaigns and orders tidy, and watch the ledger. Claims,
# policies and premiums belong to insurers. Their admins leave every state, schedule and money
# field read-only, and none of the changeable apps holds a ledger row.
PLATFORM_VIEW_APPS = ("core", "alipay", "shops", "orders")
PLATFORM_EXTRA_VIEWS = (("claims", "reconciliationrun"),)
PLATFORM_CHANGE_APPS = ("shops", "orders")


def _views(app_labels: tuple[str, ...]) -> Q:
    return Q(content_type__app_label__in=app_labels, codename__startswith="view_")


def _perm(action: str, app_label: str, model: str) -> Q:
    return Q(content_type__app_label=app_label, codename=f"{action}_{model}")


def _insurer_permissions() -> Q:
    perms = _views(INSURER_VIEW_APPS)
    for app_label, model in INSURER_HIDDEN:
        perms &= ~_perm("view", app_label, model)
    for app_label, model in INSURER_CHANGES:
        perms |= _perm("change", app_label, model)
    return perms


def _platform_permissions() -> Q:
    perms = _views(PLATFORM_VIEW_APPS)
    for app_label, model in PLATFORM_EXTRA_VIEWS:
        perms |= _perm("view", app_label, model)
    for label in PLATFORM_CHANGE_APPS:
        for model in apps.get_app_config(label).get_models():
            perms |= _perm("change", label, model._meta.model_name)
    return perms


def ensure_staff_groups() -> dict[str, Group]:
    """Create or update the "insurer_staff" and "platform_staff" groups. Safe to run again: each
    group ends up with exactly the permissions below, whatever it had before."""
    for label in PRODUCT_APPS:
        create_permissions(apps.get_app_config(label), verbosity=0)
    groups = {}
    with transaction.atomic():
        for name, perms in (
            (INSURER_STAFF, _insurer_permissions()),
            (PLATFORM_STAFF, _platform_permissions()),
        ):
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.set(Permission.objects.filter(perms))
            groups[name] = group
    return groups
