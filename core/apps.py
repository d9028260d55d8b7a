from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _staff_groups_after_migrate(**kwargs: object) -> None:
    # Every migrate (a production deploy included, without seed_demo) leaves the admin's staff
    # groups with exactly their permissions; see core/permissions.py.
    from core.permissions import ensure_staff_groups

    ensure_staff_groups()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("平台")

    def ready(self) -> None:
        post_migrate.connect(_staff_groups_after_migrate, sender=self, dispatch_uid="core_staff_groups")
