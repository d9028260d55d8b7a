from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from core.permissions import INSURER_STAFF, PLATFORM_STAFF, ensure_staff_groups
from insurance.models import Insurer
from tests.factories import InsurerFactory, UserFactory

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
def insurer_staff(staff_groups, world):
    """Carol works for the world's insurer: she reviews its claims."""
    carol, client = _staff_client(staff_groups[INSURER_STAFF], "carol")
    world.coverage.insurer.staff.add(carol)
    return carol, client


@pytest.fixture
def platform_staff(staff_groups):
    """Pat works for the platform: shops, catalog, campaigns and orders."""
    return _staff_client(staff_groups[PLATFORM_STAFF], "pat")


@dataclass
class Officers:
    """Two insurers, each with one claims officer (in the insurer staff group) logged in."""

    insurer_a: Insurer
    a: object
    a_client: Client
    insurer_b: Insurer
    b: object
    b_client: Client


@pytest.fixture
def officers(world, staff_groups) -> Officers:
    insurer_a = world.coverage.insurer
    insurer_b = InsurerFactory(code="pingan", name="平安保险")
    a, a_client = _staff_client(staff_groups[INSURER_STAFF], "officer_a")
    b, b_client = _staff_client(staff_groups[INSURER_STAFF], "officer_b")
    insurer_a.staff.add(a)
    insurer_b.staff.add(b)
    return Officers(insurer_a, a, a_client, insurer_b, b, b_client)
