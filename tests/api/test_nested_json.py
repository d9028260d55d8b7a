"""Deeply nested JSON is refused with a 400 in the API's error shape, on every endpoint that reads a
body (the anonymous token endpoint included), never a 500 ``RecursionError``; a body nested no
deeper than the limit still reaches the endpoint's own validation."""

import pytest
from django.urls import URLPattern, URLResolver
from rest_framework.parsers import JSONParser

from config import api_urls
from core.parsers import MAX_JSON_DEPTH
from tests.api.conftest import client_for, error_of

V1 = "/api/v1"
BOMB = "[" * 1000 + "]" * 1000  # 2 KB


def nested(depth: int) -> str:
    """An object ``depth`` levels deep: {"a": {"a": … 1 …}}."""
    return '{"a": ' * depth + "1" + "}" * depth


def _endpoints(scene) -> list[tuple[str, str, str, dict]]:
    """(role, method, path, headers) of every operation that reads a JSON body."""
    return [
        ("anon", "post", f"{V1}/auth/token/", {}),
        ("alice", "post", f"{V1}/addresses/", {}),
        ("alice", "post", f"{V1}/orders/", {}),
        ("alice", "post", f"{V1}/claims/", {}),
        # With an Idempotency-Key the body is read (it is part of the request's fingerprint).
        ("alice", "post", f"{V1}/orders/{scene.evidence.number}/pay/", {"HTTP_IDEMPOTENCY_KEY": "k-1"}),
        ("seller_a", "patch", f"{V1}/seller/skus/{scene.sku.pk}/", {}),
        ("seller_a", "post", f"{V1}/seller/campaign-items/{scene.item.pk}/coverage-on/", {}),
        ("seller_a", "post", f"{V1}/seller/campaign-items/{scene.item.pk}/coverage-off/", {}),
    ]


@pytest.mark.parametrize("index", range(8))
def test_a_json_bomb_is_a_400_on_every_endpoint_that_reads_a_body(clients, scene, index):
    role, method, path, headers = _endpoints(scene)[index]
    response = getattr(clients[role], method)(path, BOMB, content_type="application/json", **headers)
    assert error_of(response) == (400, "json_too_deep"), path
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]


def test_nesting_up_to_the_limit_reaches_validation_and_one_more_level_is_refused(world):
    client = client_for(world.alice)
    at_limit = client.post(f"{V1}/orders/", nested(MAX_JSON_DEPTH), content_type="application/json")
    assert error_of(at_limit) == (400, "invalid")  # parsed; the serializer says what is missing
    deeper = client.post(f"{V1}/orders/", nested(MAX_JSON_DEPTH + 1), content_type="application/json")
    assert error_of(deeper) == (400, "json_too_deep")


def test_brackets_inside_strings_do_not_count_as_nesting(world):
    body = '{"username": "' + "[{" * 5000 + '\\"", "password": "x"}'
    response = client_for().post(f"{V1}/auth/token/", body, content_type="application/json")
    assert error_of(response) == (400, "invalid")  # a username too long, not a nesting refusal


def test_the_limit_is_sane(world):
    # Deep enough for any request the API takes (an order's items are 3 levels deep), shallow
    # enough that no parser or serializer comes near Python's recursion limit.
    assert 8 <= MAX_JSON_DEPTH <= 64


def _views(patterns) -> list:
    views = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            views += _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            views.append(pattern.callback.cls)
    return views


def test_every_api_view_parses_json_with_the_depth_limit():
    from core.parsers import DepthLimitedJSONParser

    for view in _views(api_urls.urlpatterns):
        for parser in view.parser_classes:
            if issubclass(parser, JSONParser):
                assert issubclass(parser, DepthLimitedJSONParser), (view, parser)
