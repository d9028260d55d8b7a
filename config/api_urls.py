"""The REST API: /api/v1/…, the OpenAPI schema at /api/schema/, docs at /api/docs/."""

urlpatterns: list = []
