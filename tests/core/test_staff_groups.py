"""The admin's staff groups exist after `migrate` alone (a production deploy runs no seed_demo)."""

from django.contrib.auth.models import Group

from core.permissions import INSURER_STAFF, PLATFORM_STAFF


def test_migrate_leaves_both_staff_groups_with_their_permissions(db):
    insurer = Group.objects.get(name=INSURER_STAFF)
    platform = Group.objects.get(name=PLATFORM_STAFF)

    insurer_perms = set(insurer.permissions.values_list("content_type__app_label", "codename"))
    platform_perms = set(platform.permissions.values_list("content_type__app_label", "codename"))
    assert ("claims", "change_claim") in insurer_perms
    assert ("claims", "view_payout") in insurer_perms
    assert ("orders", "change_order") not in insurer_perms
    assert ("orders", "change_order") in platform_perms
    assert ("claims", "change_claim") not in platform_perms
