"""The OpenAPI schema, the docs page, and a schemathesis run over every operation.

schemathesis calls the WSGI application in-process as a logged-in buyer (token auth) and checks
that no response is a server error, that every status is documented, and that every body and
content type matches the schema.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.api.conftest import client_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_schema_lists_every_operation_with_its_errors(world):
    schema = client_for().get("/api/schema/", {"format": "json"}).json()
    assert schema["openapi"].startswith("3.")
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert (
        len(operations) == 48
    )  # issue 11: me PATCH, price drops, notices; issue 12: seller/campaign-items/{id}/products/
    for path, method, op in operations:
        statuses = set(op["responses"])
        public = path.startswith("/api/v1/storefront/") or path == "/api/v1/auth/token/"
        assert public or {"401", "403"} <= statuses, (method, path)
        assert "{" not in path or "404" in statuses, (method, path)
        for status, response in op["responses"].items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
    claims = schema["paths"]["/api/v1/claims/"]["post"]
    assert {"400", "409", "422", "429"} <= set(claims["responses"])
    assert [p["name"] for p in claims["parameters"]] == ["Idempotency-Key"]


def test_the_docs_load_nothing_from_a_cdn(world):
    page = client_for().get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


@pytest.fixture
def api_schema(world, scene):
    # Django's test client keeps the test's transaction open across requests by not closing
    # "old" connections; schemathesis calls the WSGI handler directly, so do the same here.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
        schema.config.generation.update(max_examples=10, deterministic=True)
        token, _created = Token.objects.get_or_create(user=world.alice)
        schema.config.headers = {"Authorization": f"Token {token.key}"}
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_schema(case):
    case.call_and_validate(headers=case.operation.schema.config.headers, checks=CHECKS)
