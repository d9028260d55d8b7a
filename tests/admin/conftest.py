import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from core.permissions import INSURER_STAFF, PLATFORM_STAFF, ensure_staff_groups
from tests.factories import UserFactory

PRODUCT_APPS = ("core", "alipay", "shops", "orders", "insurance", "claims")


def product_models() -> list:
    """Every model of the product registered with the admin, in a stable order."""
    models = [m for m in admin.site._registry if m._meta.app_label in PRODUCT_APPS]
    return sorted(models, key=lambda m: m._meta.label)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff_groups(db):
    return ensure_staff_groups()


def _staff_client(group, username: str) -> tuple[object, Client]:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def insurer_staff(staff_groups):
    """Carol works for the insurer: she reviews claims."""
    return _staff_client(staff_groups[INSURER_STAFF], "carol")


@pytest.fixture
def platform_staff(staff_groups):
    """Pat works for the platform: shops, catalog, campaigns and orders."""
    return _staff_client(staff_groups[PLATFORM_STAFF], "pat")
