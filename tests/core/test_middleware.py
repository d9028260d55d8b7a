import pytest


@pytest.mark.django_db
def test_pages_are_chinese_by_default_even_for_an_english_browser(client):
    response = client.get("/shop/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_the_language_switch_still_gives_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/shop/"})
    assert client.get("/shop/")["Content-Language"] == "en"


@pytest.mark.django_db
def test_api_clients_choose_their_language(client):
    response = client.get("/api/v1/storefront/campaign-items/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"
