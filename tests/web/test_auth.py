"""Login, logout, each role's landing page, and the language switch."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_login_page():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_it_sends_anonymous_visitors_to_the_storefront():
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("orders:storefront")


@pytest.mark.parametrize(
    ("who", "landing"),
    [("seller", "insurance:dashboard"), ("buyer", "orders:storefront"), ("staff", "admin:index")],
)
def test_it_lands_each_role_on_its_home_after_login(world, who, landing):
    users = {
        "seller": world.seller.user,
        "buyer": world.alice,
        "staff": UserFactory(username="pat", is_staff=True),
    }
    client = Client()
    response = client.post(
        reverse("login"), {"username": users[who].username, "password": "pw-Secret-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(landing)


def test_it_refuses_a_wrong_password(world):
    response = Client().post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_it_logs_out_with_a_post(alice_client):
    response = alice_client.post(reverse("logout"))
    assert response.status_code == 302
    assert alice_client.get(reverse("orders:mine")).status_code == 302


@pytest.mark.parametrize(
    "name",
    [
        "orders:mine",
        "orders:checkout",
        "alipay:balance",
        "insurance:dashboard",
        "insurance:campaigns",
        "orders:seller_orders",
        "claims:seller_claims",
        "shops:catalog",
    ],
)
def test_it_sends_anonymous_visitors_to_login(name):
    url = reverse(name)
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url.startswith(f"{reverse('login')}?next=")


def test_the_language_switch_answers_in_english(alice_client):
    response = alice_client.post(reverse("set_language"), {"language": "en", "next": reverse("orders:mine")})
    assert response.status_code == 302
    page = alice_client.get(reverse("orders:mine")).content.decode()
    assert '<html lang="en">' in page
    alice_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in alice_client.get(reverse("orders:mine")).content.decode()
