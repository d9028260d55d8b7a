"""Every error is ``{"code": …, "detail": …}``: service refusals, validation, 401/403/404/405/415,
parse errors and unknown paths alike."""

from tests.api.conftest import client_for, error_of

V1 = "/api/v1"


def test_a_bad_token_is_401_authentication_failed(world):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get(f"{V1}/orders/")
    assert error_of(response) == (401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_validation_errors_name_the_field_in_the_detail(world):
    body = {"address": world.alice_address.pk, "items": [{"sku": world.sku.pk, "quantity": 0}]}
    response = client_for(world.alice).post(f"{V1}/orders/", body, format="json")
    assert error_of(response) == (400, "invalid")
    assert response.json()["errors"] == {"items": [{"quantity": ["请确保该值大于或者等于 1。"]}]}
    assert response.json()["detail"] == "items.0.quantity: 请确保该值大于或者等于 1。"


def test_malformed_json_is_a_parse_error(world):
    response = client_for(world.alice).post(f"{V1}/orders/", "{", content_type="application/json")
    assert error_of(response) == (400, "parse_error")


def test_only_json_is_accepted(world):
    response = client_for(world.alice).post(f"{V1}/orders/", {"address": 1}, format="multipart")
    assert error_of(response) == (415, "unsupported_media_type")


def test_an_unsupported_method_is_405(world):
    response = client_for(world.alice).delete(f"{V1}/orders/")
    assert error_of(response) == (405, "method_not_allowed")


def test_an_unknown_path_under_the_api_is_a_json_404(world):
    for path in ("/api/v2/orders/", f"{V1}/orders/a.b/", f"{V1}/nothing/", "/api/"):
        response = client_for(world.alice).get(path)
        assert response["Content-Type"] == "application/json"
        assert error_of(response) == (404, "not_found")


def test_the_token_endpoint(world):
    client = client_for()
    response = client.post(
        f"{V1}/auth/token/", {"username": "alice", "password": "pw-Secret-123"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    form = "username=alice&password=pw-Secret-123"  # as curl -d sends it
    again = client.post(f"{V1}/auth/token/", form, content_type="application/x-www-form-urlencoded")
    assert again.json() == {"token": token}
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{V1}/me/").json()["username"] == "alice"


def test_wrong_credentials_are_refused(world):
    client = client_for()
    response = client.post(f"{V1}/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    assert error_of(response) == (400, "invalid_credentials")
    response = client.post(f"{V1}/auth/token/", {"username": "alice"}, format="json")
    assert error_of(response) == (400, "invalid")
    assert set(response.json()["errors"]) == {"password"}


def test_password_guessing_is_throttled(world, settings):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "1/min"},
    }
    client = client_for()
    client.post(f"{V1}/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    response = client.post(
        f"{V1}/auth/token/", {"username": "alice", "password": "pw-Secret-123"}, format="json"
    )
    assert error_of(response) == (429, "throttled")


def test_an_account_locked_out_by_axes_answers_in_the_error_shape(world, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = client_for()
    wrong = {"username": "alice", "password": "wrong"}
    assert error_of(client.post(f"{V1}/auth/token/", wrong, format="json")) == (400, "invalid_credentials")
    assert error_of(client.post(f"{V1}/auth/token/", wrong, format="json")) == (429, "locked_out")
    right = {"username": "alice", "password": "pw-Secret-123"}
    response = client.post(f"{V1}/auth/token/", right, format="json")
    assert error_of(response) == (429, "locked_out")
    assert int(response["Retry-After"]) > 0


def test_me_tells_the_roles(world, staff):
    assert client_for(world.seller.user).get(f"{V1}/me/").json()["is_seller"] is True
    assert client_for(staff).get(f"{V1}/me/").json() == {
        "id": staff.pk,
        "username": "claims_officer",
        "is_seller": False,
        "is_staff": True,
        "auto_claim": True,
    }


def test_messages_follow_the_request_language(world):
    response = client_for(world.alice).get(f"{V1}/orders/NOPE/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {"code": "not_found", "detail": "Not found."}
